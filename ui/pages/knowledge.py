"""Knowledge (AI champions): add guidance files, see what is indexed, remove documents."""

from __future__ import annotations

import re

import streamlit as st

from knowledge.writer_lock import IndexBusy, NoSpace
from ui import render as show
from ui.services import services
from ui.session import require

require("knowledge")
svc = services()
st.title("Knowledge")

uploads = st.file_uploader("Add documents (.txt, .md, .html, .pdf, .docx)", accept_multiple_files=True,
                           type=["txt", "md", "html", "htm", "pdf", "docx"])
if uploads and st.button("Add to the knowledge base", type="primary"):
    folder = svc.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in uploads:
        name = re.sub(r"[^\w.\-]+", "-", f.name).strip("-.") or "document"
        path = folder / name
        path.write_bytes(f.getvalue())
        paths.append(path)
    bar = st.progress(0.0, text="Reading the files...")

    def progress(event: str, done: int, total: int) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"{'Files' if event == 'files' else 'Passages'}: {done}/{total}")

    try:
        report = svc.kb.ingestor.ingest(paths, progress)
    except (IndexBusy, NoSpace) as exc:
        bar.empty()
        st.error(show.label(str(exc)))
    else:
        bar.empty()
        for outcome in report.outcomes:
            (st.error if outcome.status == "failed" else st.success)(show.label(outcome.line()))
        st.caption(show.label(report.summary()))

docs = svc.kb.store.documents()
st.subheader(f"Documents ({len(docs)})")
if not docs:
    st.info("No documents yet.")
else:
    st.dataframe([{"document": d.source, "title": d.title, "language": d.language, "format": d.format,
                   "passages": d.chunks, "added": f"{d.ingested_at:%Y-%m-%d %H:%M}",
                   "last update failed": d.update_failed} for d in docs],
                 hide_index=True, width="stretch")
    gone = st.multiselect("Remove documents", [d.source for d in docs])
    if st.button("Remove the selected documents") and gone:
        try:
            svc.kb.ingestor.remove(gone)
        except IndexBusy as exc:
            st.error(show.label(str(exc)))
        else:
            st.rerun()

untranslated = svc.untranslated()
if untranslated:
    st.subheader(f"Passages not translated ({len(untranslated)})")
    st.caption("Searched in their own language only; `waymark translate` tries them again.")
    st.dataframe([{"documents": ", ".join(docs), "passage": unit.text[:200], "reason": unit.reason,
                   "attempts": unit.attempts} for unit, docs in untranslated], hide_index=True, width="stretch")
