// The page's own script (no library, nothing from the network): per-file metadata rows, drag and drop,
// upload progress, the scan's progress, confirmations. Every text from a file name is set as text, never as HTML.
"use strict";

function perFileRows(input, table) {
  const body = table.querySelector("tbody");
  body.replaceChildren();
  Array.from(input.files).forEach((file, n) => {
    const row = body.insertRow();
    row.insertCell().textContent = file.name;
    for (const field of ["author", "unit", "year"]) {
      const box = document.createElement("input");
      box.name = `${field}_${n}`;
      box.size = field === "year" ? 5 : 10;
      box.setAttribute("aria-label", `${field} of ${file.name}`);
      row.insertCell().appendChild(box);
    }
  });
  table.hidden = input.files.length === 0;
}

function uploadWithProgress(form) {
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.upload.onprogress = (e) => {
    if (e.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * e.loaded / e.total); }
    status.textContent = "上传中 uploading…";
  };
  request.onload = () => {
    if (request.responseURL && request.status < 400) { window.location.assign(request.responseURL); return; }
    document.open(); document.write(request.responseText); document.close();
  };
  request.onerror = () => { status.textContent = "上传失败 the upload failed"; };
  request.send(new FormData(form));
}

function setUpScanForm() {
  const form = document.getElementById("scan-form");
  if (!form) return;
  const input = document.getElementById("files");
  const table = document.getElementById("per-file");
  const drop = document.getElementById("drop");
  input.addEventListener("change", () => perFileRows(input, table));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    input.files = e.dataTransfer.files;
    perFileRows(input, table);
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); document.getElementById("scan-button").disabled = true; uploadWithProgress(form); });
}

function followJob() {
  const box = document.getElementById("job");
  if (!box || !["queued", "running"].includes(box.dataset.state)) return;
  const poll = async () => {
    const answer = await fetch(`/api/jobs/${encodeURIComponent(box.dataset.job)}`, {credentials: "same-origin"});
    if (!answer.ok) return;
    const job = await answer.json();
    if (job.state === "done") { window.location.assign(job.url); return; }
    if (job.state === "failed") { window.location.reload(); return; }
    document.getElementById("job-stage").textContent = job.stage_label;
    const bar = document.getElementById("job-progress");
    bar.max = job.total || 1; bar.value = job.done;
    document.getElementById("job-count").textContent = `${job.done} / ${job.total || job.files}`;
    document.getElementById("job-seconds").textContent = job.seconds;
    setTimeout(poll, 500);
  };
  setTimeout(poll, 300);
}

function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  }
}

setUpScanForm();
followJob();
confirmations();
