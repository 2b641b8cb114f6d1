"""Messages in the users' language: Chinese when the locale is Chinese (LANG/LC_ALL zh_*) or with --lang zh, English otherwise."""

from __future__ import annotations

import functools
import os
import re

LANGUAGES = ("zh", "en")

# key → (English, Chinese); str.format fields in braces
CATALOGUE = {
    "error": ("error: {message}", "错误：{message}"),
    "warning": ("warning: {message}", "警告：{message}"),
    "problem": ("problem: {message}", "问题：{message}"),
    "check_problems": ("{db}: {n} problem{n_s}", "{db}：{n} 个问题"),
    "check_ok": ("{db}: ok", "{db}：正常"),
    "no_such_path": ("{path}: no such file or folder; check the path", "{path}：没有这个文件或文件夹，请检查路径"),
    "unreadable": ("could not be read: {reason}", "无法读取：{reason}"),
    "no_passages": ("no reused passages found", "未发现复用段落"),
    "formulae_hidden": ("({n} short official formulae not listed; --show-formulae lists them)",
                        "（另有 {n} 处规范提法未列出；加 --show-formulae 列出）"),
    "sources": ("sources", "来源"),
    "more": ("… {n} more", "… 另有 {n} 篇"),
    "by_section": ("by section", "分节复制比"),
    "not_counted": ("not counted", "不计入"),
    "chars": ("{n} chars", "{n} 字"),
    "template_traces": ("contains {n} trace(s) of a template site ({listed})", "含模板网站痕迹 {n} 处（{listed}）"),
    "submission": ("submission", "本文"),
    "source": ("source", "来源"),
    "similarity": ("sim", "相似度"),
    "summary_head": ("扫描 scan {id}: {files} 份 files, {failed} 份无法读取 could not be read", "扫描 {id}：{files} 份，{failed} 份无法读取"),
    # printed before the scan is recorded, so without its number (`chachong scans` lists it)
    "scan_line": ("{id:>5}  {time}  {files:>4} files  {failed} failed  max {top:>6}  {clusters} clusters  {paths}{again}",
                  "{id:>5}  {time}  {files:>4} 份  {failed} 份无法读取  最高 {top:>6}  {clusters} 个群组  {paths}{again}"),
    "recheck_of": ("  re-check of {id}", "  复查扫描 {id}"),
    "no_documents": ("no documents", "文档库中没有文档"),
    "postings_upgrade": ("{db}: packing the index's postings, once after an upgrade of chachong (about half a minute "
                         "per 10,000 reports) …", "{db}：chachong 升级后首次打开，正在重新存放索引的倒排记录（每一万篇约半分钟）……"),
    "contents_upgrade": ("{db}: storing each report's segment contents, once after an upgrade of chachong (about 5 seconds "
                         "per 10,000 reports) …", "{db}：chachong 升级后首次打开，正在存放各篇的片段内容（每一万篇约 5 秒）……"),
    "compare_written": ("reports written to {path}", "报告已写入 {path}"),
    "reports_written": ("scan {id}: reports written to {path}", "扫描 {id}：报告已写入 {path}"),
    "summary_head_new": ("本次扫描 this scan: {files} 份 files, {failed} 份无法读取 could not be read", "本次扫描：{files} 份，{failed} 份无法读取"),
    "summary_not_scanned": (", {n} 份未扫描 not scanned", "，{n} 份未扫描"),
    "summary_corpus_unread": (", 语料库未能读取 the corpus could not be read", "，语料库未能读取"),
    "not_recorded_stopped": ("this scan is not recorded in the scan history: it stopped when {db} stopped answering; scan the "
                             "files not scanned again when it is back", "本次扫描未记入扫描历史：{db} 停止应答，扫描中途停止；"
                             "待其恢复后请重新扫描未扫描的文件"),
    "added": ("added {added}, already present {present}, failed {failed}", "新增 {added} 篇，已存在 {present} 篇，失败 {failed} 篇"),
    "settling": ("merging the new postings into the index and compacting the database (on a large index this takes "
                 "minutes; if stopped, the next command does it)",
                 "正在把新的倒排记录并入索引并压缩数据库（大型索引需要几分钟；若中断，下一条命令会完成）"),
    "removed": ("removed {id} {path}", "已移除 {id} {path}"),
    "not_in_corpus": ("{target}: no document with this id or path in the corpus", "{target}：文档库中没有此编号或路径的文档"),
    "backed_up": ("backed up {db} to {out}", "已将 {db} 备份到 {out}"),
    "reports_not_written": ("the reports could not be written: {message}", "报告未能写入：{message}"),
    "not_recorded": ("this scan was not recorded in the scan history ({message}); its results above are complete",
                     "本次扫描未记入扫描历史（{message}）；以上结果完整"),
    "summary_ranking": ("排名 ranking ({zh} {measure}; 本人旧稿 self_reuse 另列):", "排名（按{zh}；本人旧稿另列）："),
    "summary_clusters": ("群组 clusters: {n}", "群组：{n} 个"),
    "summary_within_batch": ("本批次内 within this batch", "本批次内"),
    "summary_more_shared": ("… {n} more shared passages", "… 另有 {n} 段共享文字"),
    "kind": ("{zh} {kind}", "{zh}"),
    "span": ("chars {start}–{end}", "字符 {start}–{end}"),
    "years": ("{years}", "{years}"),
    "in_documents": ("in {docs} document{docs_s}, {units} unit{units_s}, {years} year{years_s}{since}",
                     "见于 {docs} 篇、{units} 个单位、{years} 个年度{since}"),
    "since": (", since {year}", "，最早 {year} 年"),
    "found_in": ("found in {n} document{n_s}", "见于 {n} 篇"),
    "cites": ("cites {who}", "引自 {who}"),
    # the web page (detector/web/): shown Chinese first with the English beside (messages.both)
    "web_no_db": ("{db}: no such corpus database; create it with `chachong add FOLDER --db {db}`",
                  "{db}：没有这个语料库数据库；请先用 `chachong add 文件夹 --db {db}` 建立"),
    "web_token": ("a token is required: open the address printed by `chachong serve` (…/?token=…)",
                  "需要访问令牌：请打开 `chachong serve` 启动时打印的地址（…/?token=…）"),
    "web_host": ("Host {host} refused: this server answers on {address} only", "拒绝主机名 {host}：本服务只应答 {address}"),
    "web_cross_site": ("a request from another site ({origin}) was refused", "已拒绝来自其他网站（{origin}）的请求"),
    "web_csrf": ("the form's CSRF token is missing or wrong: reload the page and try again", "表单已过期或来源不明：请刷新页面后重试"),
    "web_too_large": ("the upload is over {limit} MiB in all; scan the files in several batches", "上传内容超过 {limit} MiB：请分几批扫描"),
    "web_no_file": ("no file was chosen: choose .docx/.pdf/.doc/.txt files or a .zip of them",
                    "没有选择文件：请选择 .docx/.pdf/.doc/.txt 文件或它们的 .zip"),
    "web_too_many": ("too many files: at most {n} per scan; split the batch", "文件过多：每次最多 {n} 份，请分批扫描"),
    "web_file_too_large": ("over the {limit} MiB limit (or larger than its zip says); refused", "超过 {limit} MiB 上限（或比压缩包所记更大），已拒绝"),
    "web_zip_large": ("{name}: the zip is larger than {limit} MiB; split it", "{name}：压缩包超过 {limit} MiB，请拆分"),
    "web_zip_damaged": ("{name}: not a readable zip archive (damaged or another kind of file); zip the folder again",
                        "{name}：无法读取的压缩包（已损坏或不是 zip），请重新压缩文件夹"),
    "web_zip_members": ("{name}: the zip holds {count} files (at most {n} per scan); split it", "{name}：压缩包内有 {count} 个文件（每次最多 {n} 份），请拆分"),
    "web_zip_bomb": ("{name}: the zip would unpack to {mib} MiB (limit {limit} MiB): looks like a zip bomb; refused",
                     "{name}：解压后将达 {mib} MiB（上限 {limit} MiB），疑似压缩炸弹，已拒绝"),
    "web_zip_ratio": ("{name}: {member} is compressed over {ratio}:1: looks like a zip bomb; refused",
                      "{name}：{member} 压缩比超过 {ratio}:1，疑似压缩炸弹，已拒绝"),
    "web_zip_password": ("the zip member is password-protected; zip it again without a password", "压缩包内文件有密码，请去掉密码后重新压缩"),
    "web_manifest_large": ("the manifest is over 4 MiB; a manifest lists path,author,unit,year per file",
                           "清单超过 4 MiB；清单每行写一个文件的 path,author,unit,year"),
    "web_no_archive": ("this server has no archive folder: start it with --archive DIR to add files",
                       "本服务没有文档库文件夹：请用 --archive 文件夹 启动后再加入文档库"),
    "web_bad_year": ("year '{text}' is not a year; write it as digits, e.g. 2024", "年份“{text}”不是年份，请写成数字，如 2024"),
    "web_nothing_to_change": ("nothing to change: fill in the fields to correct", "没有要修改的字段：请填写要更正的内容"),
    "web_choose_file": ("choose a file for '{field}'", "请为“{field}”选择文件"),
    "web_one_file": ("'{field}' must be one report file, not a zip of {n} files", "“{field}”须是一份材料，而不是含 {n} 个文件的压缩包"),
    "web_rank_by": ("rank_by {measure}: use one of {measures}", "排序指标 {measure} 无效，可用：{measures}"),
    "web_no_document": ("document {id} is not in the corpus (removed already?)", "文档 {id} 不在文档库中（已删除？）"),
    "web_updated": ("updated document {id}: {fields}", "已修改文档 {id}：{fields}"),
    "web_removed": ("removed {docs}", "已删除 {docs}"),
}

# `chachong stats`, its lines in Chinese (the JSON keeps the machine names)
STATS_ZH = {"documents": "文档数", "characters": "字数", "segments": "片段数", "postings": "倒排记录数",
            "database_bytes": "数据库字节数", "settings": "索引设置", "built_by": "建立索引的版本", "last_rebuild": "上次重建"}


def stats_label(key: str) -> str:
    """A `chachong stats` line's name: the machine name, or its Chinese one under --lang zh."""
    return STATS_ZH.get(key, key) if language() == "zh" else key


# What a file's bytes say it is (detector/ingest/sniff.py KIND_NAMES), in Chinese
KIND_NAMES_ZH = {
    "pdf": "PDF 文件", "zip": "zip 压缩格式的文件（.docx、.xlsx、.pptx、.wps 等）", "encrypted-office": "设有密码的 Office 文档",
    "ole": "旧版 Office 文件（.doc、.xls、.ppt，或设有密码的 Office 文件）", "rtf": "RTF 文件", "html": "网页（HTML）",
    "png": "PNG 图片", "jpeg": "JPEG 图片", "gzip": "gzip 压缩包", "rar": "RAR 压缩包", "7z": "7-Zip 压缩包",
}


def _kind_not_suffix(found) -> str:
    """'is a PDF file, not a .docx file' (or 'not a CSV') in Chinese (a kind without a Chinese name stays as it is)."""
    from detector.ingest.sniff import KIND_NAMES  # only for such a message: `--help` does not load the readers

    kinds = {english: KIND_NAMES_ZH.get(kind, english) for kind, english in KIND_NAMES.items()}
    expected = "纯文本" if found.group(3) else "CSV 文件" if found.group(4) else f" {found.group(2)} 文件"
    return f"是 {kinds.get(found.group(1), found.group(1))}，不是{expected}"


# what `chachong check` counts, in Chinese (the totals against a recount)
_COUNTED = {"documents": "篇文档", "segments": "个片段", "characters": "个字符", "postings": "条倒排记录", "catalogue": "目录中",
            "stored documents": "存储的文档中"}


# What the library says (English, in DetectorError messages and per-file reasons), phrase by phrase in Chinese: a
# message is translated where its phrases are known and left as it is elsewhere (paths and details stay verbatim).
# Compiled on first use (_phrases): ~100 patterns took ~25 ms of every process's start, English ones included.
PHRASE_SOURCES = (
    (r"no such file \(moved or deleted after it was listed\?\)", "没有这个文件（列出后被移动或删除？）"),
    (r"the manifest lists it, but there is no such file; check its path in the manifest \(paths are relative to the "
     r"manifest's folder\)", "清单中列有此文件，但文件不存在；请检查清单中的路径（路径相对于清单所在的文件夹）"),
    (r"check the path", "请检查路径"),
    (r"permission denied", "没有读取权限"),
    (r"make the file readable for this user", "请让当前用户可以读取该文件"),
    (r"is a folder, not a file", "是文件夹，不是文件"),
    (r"give the folder itself to scan what is inside", "直接给出文件夹即可扫描其中的文件"),
    (r"the file holds no text \(empty or whitespace only\)", "文件中没有文字（为空或只有空白）"),
    (r"nothing to compare", "无可比对"),
    (r"file is ([\d.]+ [KM]iB), over the ([\d.]+ [KM]iB) limit", r"文件大小 \1，超过 \2 上限"),
    (r"raise it with --max-file-mb", "可用 --max-file-mb 调高"),
    (r"is a password-protected Office document", "是设有密码的 Office 文档"),
    (r"remove the password in Word/WPS and save it again", "请在 Word/WPS 中去掉密码后重新保存"),
    (r"is not valid (\S+) \(byte (\d+)\)", r"不是有效的 \1 编码（第 \2 字节）"),
    (r"could not be decoded as UTF-8, UTF-16 or GB18030", "无法按 UTF-8、UTF-16 或 GB18030 解码"),
    (r"pass --encoding \(e\.g\. --encoding gbk\) if you know the file's encoding",
     "如知道文件的编码，请用 --encoding 指定（如 --encoding gbk）"),
    (r"save it as UTF-8 text \(Notepad or WPS: Save As, encoding UTF-8\) or as \.docx and upload it again",
     "请另存为 UTF-8 文本（记事本或 WPS：“另存为”，编码选 UTF-8）或 .docx 后重新上传"),
    (r"looks like a binary file \(control characters\), not text", "像是二进制文件（含控制字符），不是文本"),
    (r"contains NUL bytes: this is a binary file, not text", "含 NUL 字节：这是二进制文件，不是文本"),
    (r"unsupported file type '([^']*)'", r"不支持的文件类型“\1”"),
    (r"(\d+) files? not read \((.*?)(?: and (\d+) more)?\): ?", lambda m: f"{m.group(1)} 个文件未读取（{m.group(2)}"
     + (f" 等，另有 {m.group(3)} 个" if m.group(3) else "") + "）："),
    (r"(\d+) files? not listed in the manifest \((.*?)(?: and (\d+) more)?\): ?", lambda m: f"{m.group(1)} 个文件不在清单中（{m.group(2)}"
     + (f" 等，另有 {m.group(3)} 个" if m.group(3) else "") + "）："),
    (r"authors inferred from the text, so reuse of one's own earlier report may read as copying",
     "作者只能从正文推断，本人旧稿的复用可能被当作抄袭他人"),
    (r"list them \(check the manifest's path column\)", "请把它们列入清单（检查清单的 path 列）"),
    (r"(\d+) files? of unknown author \((.*?)(?: and (\d+) more)?\): ?", lambda m: f"{m.group(1)} 个文件作者未知（{m.group(2)}"
     + (f" 等，另有 {m.group(3)} 个" if m.group(3) else "") + "）："),
    (r"(?:its|their) passages copied from another author's report may be (?:its author's|their authors') own earlier text",
     "其中复制他人的段落可能是作者本人的旧稿"),
    (r"give the authors \(--manifest or --author\)", "请给出作者（--manifest 或 --author）"),
    (r"(\d+) files? with passages copied from reports of unknown author \((.*?)(?: and (\d+) more)?\): ?",
     lambda m: f"{m.group(1)} 个文件中有复制自作者未知报告的段落（{m.group(2)}" + (f" 等，另有 {m.group(3)} 个" if m.group(3) else "")
     + "）："),
    (r"they may be the submitter's own earlier text", "可能是送检人本人的旧稿"),
    (r"give the archive's authors \(chachong meta ID --author NAME, or add --manifest\)",
     "请给出文档库中报告的作者（chachong meta 编号 --author 姓名，或 add --manifest）"),
    (r"no file extension; a folder's files are read by theirs \((.+?)\): add one", r"没有扩展名；文件夹中的文件按扩展名读取（\1）：请加上扩展名"),
    (r"chachong reads (.+?) \(convert the file to one of them\)", r"chachong 可读取 \1（请转换为其中一种格式）"),
    (r"does not hold a (\.\w+) file inside \(damaged, or another kind of file renamed\)",
     r"不是真正的 \1 文件（已损坏，或是别的文件改了扩展名）"),
    (r"is (an? [^;]+?), not (?:a (\.\w+) file|(plain text)|(a CSV))", _kind_not_suffix),
    (r"rename it to (\.\w+) if it is a report, or leave it out", r"如是材料请把扩展名改为 \1，否则请略去该文件"),
    (r"open it in Word/WPS and save it as \.docx \(or \.pdf, or UTF-8 \.txt\), or leave it out",
     "请用 Word/WPS 打开并另存为 .docx（或 .pdf、UTF-8 .txt），否则请略去该文件"),
    (r"is a zip archive but not a Word \.docx document", "是 zip 压缩包，不是 Word .docx 文档"),
    (r"unpack it and give chachong the reports inside", "请解压后扫描其中的材料"),
    (r"is an Office file but not a Word document \(\.docx\)", "是 Office 文件，但不是 Word 文档（.docx）"),
    (r"open it in Word or WPS and save it as \.docx", "请用 Word 或 WPS 打开并另存为 .docx"),
    (r"is not a readable \.docx: the zip container is damaged or truncated", "不是可读的 .docx：压缩容器已损坏或不完整"),
    (r"the \.docx is damaged", "该 .docx 已损坏"),
    (r"open it in Word or WPS and save it (?:again )?as \.docx", "请用 Word 或 WPS 打开并另存为 .docx"),
    (r"or ask for a new copy", "或索取新的副本"),
    (r"template-site watermarks \(稿子铺, ##paid##, 来源:网络 …\) are nested inside one another more than (\d+) deep, as no "
     r"real report has them \(a crafted text, whose normalising would take minutes\)",
     r"模板网站水印（稿子铺、##paid##、来源:网络 …）层层嵌套超过 \1 层，真实的材料不会这样（是特意构造的文本，规范化它要花数分钟）"),
    (r"remove the watermarks, or ask for a clean copy of the report", "请删去这些水印，或索取一份干净的材料"),
    (r"stored document (\d+): (.*?); nothing was changed: drop it with `chachong remove (\d+) --db DB`, then rebuild again",
     r"已存文档 \1：\2；未作任何改动：请用 `chachong remove \3 --db DB` 删去它，再重新运行 rebuild"),
    (r"no text layer: scanned PDF, OCR needed", "没有文字层：是扫描的 PDF，需要 OCR"),
    (r"run OCR on it first \(e\.g\. ocrmypdf -l chi_sim\), or read it with OCR on .*",
     "请先做 OCR（如 ocrmypdf -l chi_sim），或加 --ocr 读取（需安装 tesseract-ocr、tesseract-ocr-chi-sim、poppler-utils）"),
    (r"the PDF is password-protected", "该 PDF 设有密码"),
    (r"remove the password \(or print it to a new PDF\) and try again", "请去掉密码（或打印为新的 PDF）后重试"),
    (r"the PDF is damaged", "该 PDF 已损坏"),
    (r"is not a readable PDF", "不是可读的 PDF"),
    (r"print it to a new PDF", "请打印为新的 PDF"),
    (r"no such database; create one with `chachong add PATH\.\.\. --db (.+?)`", r"没有这个数据库；请先用 `chachong add 路径… --db \1` 建立"),
    (r"this SQLite file is not a chachong database; choose another --db path", "这个 SQLite 文件不是 chachong 数据库，请换一个 --db 路径"),
    (r"is writing this index; this run stops without changing anything \(try again when it has finished\)",
     "正在写入索引；本次运行未作任何改动即停止（请待其完成后重试）"),
    (r"the index was built with normaliser version (\S+), this chachong has (\S+)", r"索引由规范化版本 \1 建立，本程序为版本 \2"),
    (r"rebuild it with `chachong rebuild --full`", "请用 `chachong rebuild --full` 重建"),
    (r"not a usable chachong database \((.*?)\); check the --db path", r"不是可用的 chachong 数据库（\1）；请检查 --db 路径"),
    (r"the files of (\d+) of the (\d+) stored documents are gone \(is it mounted, or still being copied\?\)",
     r"已存的 \2 篇文档中有 \1 篇的文件不见了（文件夹是否已挂载，或仍在复制？）"),
    (r"the folder is empty and the manifest (.+?) is not there \(is the archive mounted, or still being copied\?\); nothing "
     r"was changed\. Check the folder and run again", r"文件夹是空的，清单 \1 也不存在（文档库文件夹是否已挂载，或仍在复制？）；"
     "未作任何改动。请检查该文件夹后再运行"),
    (r"nothing was changed\. Check the folder, or run again with --allow-mass-removal if they were deleted on purpose",
     "未作任何改动。请检查该文件夹；如确是有意删除，请加 --allow-mass-removal 再运行"),
    (r"no such manifest file; check the --manifest path", "没有这个清单文件，请检查 --manifest 路径"),
    (r"the first line must be the header (\S+) \(it is (.*?)\); add the header line", r"第一行须为表头 \1（现为 \2）；请加上表头行"),
    (r"not a readable CSV \((.*?)\)", r"不是可读的 CSV 文件（\1）"),
    (r"in Excel save it as CSV UTF-8 \(Comma delimited\) / CSV UTF-8\(逗号分隔\) with the header (\S+)",
     r"请在 Excel 中另存为“CSV UTF-8(逗号分隔)”，首行为表头 \1"),
    (r"cannot connect to a Redis server at (\S+) \((.*)\); check the address and that the server runs",
     r"无法连接 \1 上的 Redis 服务器（\2）；请检查地址，并确认 Redis 服务器正在运行"),
    (r"the Redis server at (\S+) needs a password \(none was given\); give it as redis://:PASSWORD@HOST:PORT/NAME",
     r"\1 上的 Redis 服务器需要密码（地址中没有给出）；请写成 redis://:密码@主机:端口/语料库名"),
    (r"the Redis server at (\S+) refused the password \((.*)\); give it as redis://:PASSWORD@HOST:PORT/NAME",
     r"\1 上的 Redis 服务器拒绝了密码（\2）；请写成 redis://:密码@主机:端口/语料库名"),
    (r"(\S+) does not answer as a Redis server \((.*)\); check the address", r"\1 应答的不是 Redis 服务器（\2）；请检查地址"),
    (r"the port of (\S+) is not a number; write redis://HOST:PORT/NAME", r"\1 的端口不是数字；请写成 redis://主机:端口/语料库名"),
    (r"name the corpus after the address, e\.g\. redis://HOST:PORT/archive \(letters, digits, \. _ -: several corpora can "
     r"share one cluster\)", "请在地址后写上语料库名，如 redis://主机:端口/archive（字母、数字、. _ -；多个语料库可共用一个集群）"),
    (r"no corpus named (\S+) on this Redis \(an empty namespace\); create one with `chachong add PATH\.\.\. --db (.+?)`",
     r"这个 Redis 上没有名为 \1 的语料库（命名空间为空）；请先用 `chachong add 路径… --db \2` 建立"),
    (r"the corpus (\S+) was deleted from this Redis", r"语料库 \1 已从这个 Redis 中删除"),
    (r"the corpus (\S+) is gone and this Redis evicted keys when it was full \((.*)\): its keys were evicted(?: \((some of "
     r"them are left)\)|, if the name is right); do not create a new corpus over it: set maxmemory-policy noeviction on the "
     r"server \(redis-cli CONFIG SET maxmemory-policy noeviction, and in redis\.conf\), then rebuild the corpus from the "
     r"archive \(`chachong rebuild --db (\S+) --from ARCHIVE`\)", lambda m: (
         f"语料库 {m.group(1)} 已不在这个 Redis 上，而该服务器在内存满时逐出过键（{m.group(2)}）："
         + ("语料库的键已被逐出（尚余部分键）" if m.group(3) else "如语料库名无误，其键已被逐出")
         + "；请勿在原处新建空语料库：请把服务器的 maxmemory-policy 设为 noeviction（redis-cli CONFIG SET maxmemory-policy "
         f"noeviction，并写入 redis.conf），然后从文档库重建语料库（`chachong rebuild --db {m.group(4)} --from 文档库文件夹`）")),
    (r"(\S+): (\d+) keys evicted, maxmemory-policy ([\w-]+)", r"\1：已逐出 \2 个键，maxmemory-policy \3"),
    (r"the Redis node(?:s)? (.+?) did not answer for (\d+) s \((.*?)\)(?=; )", r"Redis 节点 \1 已 \2 秒没有应答（\3）"),
    (r"the Redis cluster did not serve every slot for (\d+) s \((.*?)\)(?=; )", r"Redis 集群已 \1 秒未能服务全部槽位（\2）"),
    (r"the cluster is down or could not fail over: check its nodes \(redis-cli --cluster check HOST:PORT\), then run the "
     r"command again", "集群已停止服务或未能完成主从切换：请检查各节点（redis-cli --cluster check 主机:端口），然后重新运行该命令"),
    (r"check that the Redis server runs \((redis-cli [^)]*)\), then run the command again",
     r"请确认 Redis 服务器正在运行（\1），然后重新运行该命令"),
    (r"writing stopped, the Redis node(?:s)? (.+?) did not answer \((.*)\); nothing half-written is visible to scans: run "
     r"the command again", r"写入已停止：Redis 节点 \1 没有应答（\2）；扫描看不到写了一半的内容，请重新运行该命令"),
    (r"writing stopped, the Redis cluster did not serve every slot \((.*)\); nothing half-written is visible to scans: run "
     r"the command again", r"写入已停止：Redis 集群未能服务全部槽位（\1）；扫描看不到写了一半的内容，请重新运行该命令"),
    (r"the writer lock expired while this process was writing \(the Redis server was unreachable too long\); nothing more "
     r"is written: run it again", "本进程写入时写入锁已过期（Redis 服务器过久无法连接）；不再写入，请重新运行"),
    (r"`chachong backup` copies a SQLite database; back up a Redis Cluster with Redis's own persistence \(an RDB snapshot, "
     r"BGSAVE, or AOF on every master\)", "`chachong backup` 只复制 SQLite 数据库；Redis 集群请用 Redis 自身的持久化备份"
     "（RDB 快照、BGSAVE，或在每个主节点上开启 AOF）"),
    (r"a symbolic link that loops or points nowhere; skipped", "符号链接循环或指向不存在的目标，已跳过"),
    (r"not scanned: the corpus (\S+) stopped answering before its turn; scan this file again when it is back",
     r"未扫描：轮到此文件之前语料库 \1 已停止应答；待其恢复后请重新扫描此文件"),
    # `chachong check`: what is wrong with a corpus (detector/store/sqlite.py and redis.py, problems)
    (r"SQLite's integrity check: (.*); restore a backup or run", r"SQLite 完整性检查：\1；请从备份恢复或运行"),
    (r"postings cover (\d+) segments, the documents own (\d+) \(not the same ones\)",
     r"倒排记录覆盖 \1 个片段，而文档拥有 \2 个（二者不一致）"),
    (r"(\d+) segments do not have one posting per band \((\d+)\)", r"有 \1 个片段并非每个分带（共 \2 个）恰有一条倒排记录"),
    (r"\bdocument (\d+) \((.+?)\): ", r"文档 \1（\2）："),
    (r"its segments (\d+)–(\d+) overlap the previous document's", r"其片段 \1–\2 与前一篇文档的片段重叠"),
    (r"no segment layout \(indexed by an older chachong\)", "没有片段布局（由旧版 chachong 建立的索引）"),
    (r"its text or layout cannot be read \((.*)\); restore a backup or rebuild", r"其正文或布局无法读取（\1）；请从备份恢复或重建"),
    (r"(\d+) segments recorded, its layout has (\d+)", r"记录为 \1 个片段，其布局却有 \2 个"),
    (r"its stored segment contents differ from its layout", "其存储的片段内容与其布局不一致"),
    (r"posting lists damaged: (\d+) \(band key (\d+): (\d+) bytes, not whole segment ids\)",
     r"\1 个倒排列表已损坏（频带键 \2：\3 字节，不是整数个片段编号）"),
    (r"posting lists not in ascending order: (\d+) \(band key (\d+)\)", r"\1 个倒排列表未按升序排列（频带键 \2）"),
    (r"the postings of band key (\d+) are damaged \((\d+) bytes, not whole (\d+)-byte segment ids\)",
     r"频带键 \1 的倒排记录已损坏（\2 字节，不是整数个 \3 字节的片段编号）"),
    (r"run `chachong check`, then restore a backup or rebuild with `chachong rebuild --full`",
     "请运行 `chachong check`，然后从备份恢复或用 `chachong rebuild --full` 重建"),
    (r"the index has used ([\d,]+) segment numbers and ([\d,]+) more would pass ([\d,]+), the most it stores",
     r"索引已用去 \1 个片段编号，再加 \2 个将超过其能存储的上限 \3"),
    (r"number them from 0 again with `chachong rebuild --full`, then add again",
     "请用 `chachong rebuild --full` 从 0 重新编号，然后再添加"),
    (r"segment document frequencies: (\d+) of (\d+) segment hashes counted wrong; `chachong rebuild --from ARCHIVE` recounts "
     r"them", r"片段文档频率：\2 个片段哈希中有 \1 个计数错误；`chachong rebuild --from 文档库文件夹` 会重新计数"),
    (r"built with normaliser version ([^,\s]+), this chachong has ([^;\s]+); ", r"索引由规范化版本 \1 建立，本程序为版本 \2；"),
    (r"the recorded index settings are not valid \((.*)\)(?=; )", r"记录的索引设置无效（\1）"),
    (r"the recorded index settings do not match what they imply \((.*?)\)", r"记录的索引设置与其应有的设置不一致（\1）"),
    (r"no index settings recorded \(meta 'index'\)|the index settings are not recorded", "没有记录索引设置"),
    (r"rebuild (?:the index )?with `chachong rebuild --full`", "请用 `chachong rebuild --full` 重建索引"),
    (r"the Redis server (\S+) \(([\w-]+)\) drops keys when it reaches its maxmemory: part of the index can vanish without an "
     r"error; set maxmemory-policy noeviction \(a full server then refuses writes, and chachong says so\)",
     r"Redis 服务器 \1（\2）在内存达到 maxmemory 时会删除键：索引的一部分可能无声无息地丢失；请设置 maxmemory-policy "
     r"noeviction（服务器满时将拒绝写入，chachong 会报告）"),
    (r"(\d+) documents? (?:were|was) left half-written or half-deleted \(the next add, remove or rebuild cleans them\)",
     r"有 \1 篇文档写入或删除到一半（下一次 add、remove 或 rebuild 会清理）"),
    (r"(\d+) catalogued documents? (?:have|has) no stored text", r"目录中有 \1 篇文档没有存储正文"),
    (r"the totals count (\d+) (documents|segments|characters|postings), the (catalogue|stored documents) (\d+); ",
     lambda m: f"总数记为 {m.group(1)} {_COUNTED[m.group(2)]}，而{_COUNTED[m.group(3)]}为 {m.group(4)}；"),
    (r"(\d+) segment document frequencies differ from a recount; `chachong rebuild` recounts them",
     r"有 \1 个片段文档频率与重新计数不符；`chachong rebuild` 会重新计数"),
    (r"the postings hold (\d+) records, the stored documents own (\d+)", r"倒排索引存有 \1 条记录，而存储的文档拥有 \2 条"),
    (r"the content indexed for it before stays until the file can be read", "此前为它建立索引的内容保留，直到该文件可以读取"),
    (r"run `chachong rebuild --full`", "请运行 `chachong rebuild --full`"),
    (r"no scan with id (\d+); `chachong scans --db (.+?)` lists them", r"没有编号为 \1 的扫描；`chachong scans --db \2` 可列出全部扫描"),
    (r"no such document in (.+?); `chachong meta --db DB` lists them", r"文档库 \1 中没有此文档；`chachong meta --db DB` 可列出全部文档"),
)


def _manifest_rows(m) -> str:
    more = f" 等，另有 {m.group(3)} 行" if m.group(3) else ""
    return f"清单：有 {m.group(1)} 行在文档库文件夹中找不到文件（{m.group(2)}{more}）：未应用；请检查 path 列"


def _compacted(m) -> str:
    vacuumed = "，已压缩（VACUUM）" if m.group(3) else ""
    wal = "；有扫描正在读取，WAL 暂留" if m.group(4) else ""
    return f"整理：已优化；{m.group(2)} 页中 {m.group(1)} 页空闲{vacuumed}{wal}（{m.group(5)} 秒）"


def _lock_holder(m) -> str:
    host = f"，主机 {m.group(3)}" if m.group(3) else ""
    return f"另一个 `chachong {m.group(1)}`（进程 {m.group(2)}{host}，开始于 {m.group(4)}）"


# The nightly rebuild's log lines (detector/rebuild.py), whole lines: read before PHRASE_SOURCES, whose shorter phrases
# ("check the path") would otherwise take pieces of them. The summary line is `RebuildSummary.line()`.
REBUILD_PHRASE_SOURCES = (
    (r"^lock: holding the writer lock of (.+)$", r"加锁：已取得 \1 的写入锁"),
    (r"^survey: (\d+) files to keep or index, (\d+) hashed, (\d+) new, (\d+) changed, (\d+) gone, (\d+) renamed, (\d+) "
     r"unreadable \(([\d.]+) s\)$", r"盘点：\1 个文件需保留或索引，其中 \2 个重新计算哈希；新增 \3，改动 \4，消失 \5，改名 \6，"
     r"无法读取 \7（\8 秒）"),
    (r"^prepare: (\d+) documents read and fingerprinted, (\d+) failed \(([\d.]+) s\)$", r"准备：读取并计算指纹 \1 篇，失败 \2 篇（\3 秒）"),
    (r"^statistics: (\d+) segment hashes recounted$", r"统计：重新统计了 \1 个片段哈希"),
    (r"^apply: (\d+) indexed, (\d+) removed, (\d+) renamed, (\d+) relabelled; statistics recounted; committed "
     r"\(([\d.]+) s\)$", r"写入：索引 \1 篇，移除 \2 篇，改名 \3 篇，更新元数据 \4 篇；统计已重算；已提交（\5 秒）"),
    (r"^compact: optimized; (\d+) of (\d+) pages free(, vacuumed)?(; WAL kept \(a scan is reading\))? \(([\d.]+) s\)$",
     _compacted),
    (r"^compact: not done; the changes were committed$", "整理：未完成；改动已提交"),
    (r"^compact: (.*) \(([\d.]+) s\)$", r"整理：\1（\2 秒）"),
    (r"added (\d+), changed (\d+), removed (\d+), renamed (\d+), relabelled (\d+), unchanged (\d+), failed (\d+); "
     r"(\d+) documents; ([\d.]+) s", r"新增 \1，改动 \2，移除 \3，改名 \4，更新元数据 \5，未变 \6，失败 \7；共 \8 篇文档；用时 \9 秒"),
    (r"^done: ", "完成："),
    (r"; full: all (\d+) indexed again", r"；完全重建：全部 \1 篇重新索引"),
    (r"; compacted \(the last rebuild's compacting had not finished\)", "；已整理（上次重建的整理未完成）"),
    (r"^compact: done, but not recorded as done; the next rebuild compacts again$", "整理：已完成，但未能记下；下次重建将再次整理"),
    (r"^full rebuild needed: (.*); doing one$", r"需要完全重建：\1；现在完全重建"),
    (r"other index settings were asked for", "指定了另一套索引设置"),
    (r"this chachong derives other index parameters from the stored settings", "本程序由已存设置推出的索引参数与已存的不同"),
    (r"^skipped (.+?): a symbolic link that loops or points nowhere; skipped$", r"已跳过 \1：符号链接循环或指向不存在的目标"),
    (r"^skipped (.+?): (?=\d+ files? not read)", r"已跳过 \1："),  # the reason: PHRASE_SOURCES
    (r"^manifest: no file in the archive for (\d+) rows? \((.*?)(?: and (\d+) more)?\): not applied; check the path column$",
     _manifest_rows),
    (r"([^\s:：]+)'s report is the same text as (.+?) \((.+?)\), which is stored: not stored again; two authors handed "
     r"in one text, compare them", r"\1 的材料与已存的 \2（\3）文字相同：不再另存；两位作者交了同一份文字，请比对"),
    (r"^stopped \(SIGTERM\) after the changes were committed: the index is complete and in line with the archive; only "
     r"compacting was cut short$", "已停止（SIGTERM），改动已提交：索引完整，与文档库文件夹一致；只是整理被中断"),
    (r"^stopped \(SIGTERM\) before the changes were committed: the index is as it was before this run, nothing "
     r"half-written; the next rebuild does the whole job$",
     "已停止（SIGTERM），改动尚未提交：索引仍是本次运行前的样子，没有写了一半的内容；下次重建会做完全部工作"),
)

# What the disk or the database refused (detector/errors.py storage_error) and who holds the writer lock
# (detector/locking.py): read after PHRASE_SOURCES, whose mass-removal line says "nothing was changed." in a sentence of its own.
STORAGE_PHRASE_SOURCES = (
    (r"the changes were committed \(the index is in line with the archive\), only compacting was not done",
     "改动已提交（索引已与文档库文件夹一致），只是没能整理数据库"),
    (r"the disk is full", "磁盘已满"),
    (r"its folder (.+?) does not exist", r"所在文件夹 \1 不存在"),
    (r"check the --db path, or create the folder first", "请检查 --db 路径，或先建立该文件夹"),
    (r"(?:check the path|请检查路径), or create the folder first", "请检查路径，或先建立该文件夹"),  # "check the path": PHRASE_SOURCES
    (r"nothing was changed", "未作任何改动"),
    (r"free some space \(or use a file on another disk\) and run again", "请腾出磁盘空间（或改用另一磁盘上的文件）后重新运行"),
    (r"the file size limit of this process was reached \(ulimit -f ([^)]*)\)", r"已达到本进程的文件大小上限（ulimit -f \1）"),
    (r"raise it \(ulimit -f unlimited\) and run again", "请调高上限（ulimit -f unlimited）后重新运行"),
    (r"is read-only \(the file or its disk\)", "是只读的（文件本身或其所在磁盘）"),
    (r"make it writable or work on a copy", "请使其可写，或在副本上操作"),
    (r"give this user access to the file and its folder", "请让当前用户可以访问该文件及其文件夹"),
    (r"disk I/O error", "磁盘读写错误"),
    (r"check the disk \(dmesg, df\), then run `chachong check --db DB`", "请检查磁盘（dmesg、df），然后运行 `chachong check --db DB`"),
    (r"another process kept the database busy too long", "另一进程占用数据库过久"),
    (r"try again when it has finished", "请待其完成后重试"),
    (r"the database is damaged; restore it from a backup \(`chachong backup`\) or rebuild it \(`chachong rebuild --full`\)",
     "数据库已损坏；请从备份恢复（`chachong backup`），或重建（`chachong rebuild --full`）"),
    (r"cannot be opened; check that its folder exists and this user may read and write there",
     "无法打开；请确认其文件夹存在，且当前用户可在其中读写"),
    (r"check the disk and the file, then run again", "请检查磁盘和文件后重新运行"),
    (r"another `chachong (\w+)` \(pid (\d+)(?: on ([^,]+))?, started ([^)]+)\)", _lock_holder),
    (r"another chachong process", "另一个 chachong 进程"),
)

@functools.lru_cache(maxsize=1)
def _phrases() -> tuple:
    """The phrases, compiled once: the rebuild's whole lines first, the storage errors last."""
    sources = REBUILD_PHRASE_SOURCES + PHRASE_SOURCES + STORAGE_PHRASE_SOURCES
    return tuple((re.compile(english), chinese) for english, chinese in sources)


_current = {"language": None}


def language_from_environment(environ=None) -> str:
    """zh when LC_ALL, LC_MESSAGES or LANG (the first one set, as the C library reads them) names a Chinese locale."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(language: str | None) -> str:
    """Use `language` (zh/en) from now on; None: from the environment. Returns the language in use."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    _current["language"] = language or language_from_environment()
    return _current["language"]


def language() -> str:
    return _current["language"] or language_from_environment()


def say(key: str, **fields) -> str:
    """The message `key` in the current language, its fields filled in (a library message or reason in them too)."""
    english, chinese = CATALOGUE[key]
    if language() != "zh":  # "{n} document{n_s}": 1 document, 2 documents
        plurals = {f"{k}_s": "" if v == 1 else "s" for k, v in fields.items() if isinstance(v, int)}
        return english.format(**plurals, **fields)
    fields = {k: localized(str(v)) if k in ("message", "reason") else v for k, v in fields.items()}
    return chinese.format(**fields)


def said(text: str) -> str:
    """A library message (a report's error) in the current language: in Chinese where its phrases are known."""
    return localized(text) if language() == "zh" else text


def localized(text: str) -> str:
    """A library message in Chinese where its phrases are known (see PHRASE_SOURCES); '; ' between them becomes '；'."""
    for pattern, chinese in _phrases():
        text = pattern.sub(chinese, text)
    return re.sub(r"(?<=[\w）”)])[;,] (?=[\u4e00-\u9fff“（])", lambda m: "；" if m.group(0)[0] == ";" else "，", text)


def both(key: str, **fields) -> str:
    """The message `key` in Chinese with the English beside it (the web page shows both languages)."""
    english, chinese = CATALOGUE[key]
    return f"{chinese.format(**fields)} — {english.format(**fields)}"
