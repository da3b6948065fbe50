"""Regenerate the binary documents (.pdf, .docx) of the Waymark sample corpus.

SAMPLE CONTENT – every text below was written by the Waymark project for
demonstration only. None of it is official government guidance; all
departments, tools and regulators named are fictional.

The Markdown, HTML and plain-text documents in this folder are maintained by
hand. Only the files produced by this script are binary:

- dpia-for-ai-projects.en.pdf      (reportlab / platypus)
- ai-champion-role.en.docx         (python-docx)
- evaluation-pilotes-ia.fr.docx    (python-docx)

Run with:  .venv/bin/python scripts/build_sample_corpus.py

Document structure convention (same as the .md/.html files): the document
title is the top-level heading (PDF title style / docx "Heading 1"), sections
are second-level headings ("Heading 2"), and subsections, where present, are
third-level headings ("Heading 3").
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

HERE = Path(__file__).resolve().parent.parent / "knowledge" / "sample_corpus"
# Fixed timestamp so re-running the script gives byte-identical files.
FIXED_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

# A block is (kind, content):
#   ("h2", str) section heading        ("h3", str) subsection heading
#   ("p", str) paragraph               ("ul", [str, ...]) bullet list
#   ("ol", [str, ...]) numbered list   ("pagebreak", "") new page (PDF only)
Block = tuple[str, str | list[str]]

# ---------------------------------------------------------------------------
# 1. DPIAs for AI projects (English, PDF)
# ---------------------------------------------------------------------------

DPIA_TITLE = "Data Protection Impact Assessments for AI Projects"
DPIA_BLOCKS: list[Block] = [
    (
        "p",
        "SAMPLE CONTENT – written by the Waymark project for demonstration "
        "only. This is not official government guidance.",
    ),
    (
        "p",
        "This guidance explains when and how teams in the Department for Public "
        "Services complete a data protection impact assessment (DPIA) for "
        "projects that use artificial intelligence. A DPIA is a structured way "
        "to identify and reduce risks to the people whose personal data a "
        "system processes. It is a living document, not a one-off form.",
    ),
    ("h2", "When a DPIA is required"),
    (
        "p",
        "Every AI project completes the DPIA screening checklist during its "
        "Discovery phase. The checklist has nine questions. If the answer to "
        "any one of them is yes, a full DPIA is required before personal data "
        "is processed outside a test environment. Examples of screening "
        "questions ask whether the project will:",
    ),
    (
        "ul",
        [
            "process special category data, such as health, ethnicity or religious belief",
            "make or support decisions with legal or similarly significant effects on individuals",
            "combine personal data from two or more separate sources",
            "monitor people systematically, for example through cameras or online activity",
            "use a supplier that stores personal data outside the country",
        ],
    ),
    (
        "p",
        "Keep the completed checklist in the project file even when the result "
        "is that no full DPIA is needed.",
    ),
    ("h2", "Roles and responsibilities"),
    (
        "ul",
        [
            "Senior Responsible Owner (SRO): accountable for the DPIA and signs the final version.",
            "Project lead: writes the DPIA and keeps it up to date.",
            "Technical lead: documents the model, its training data and all data flows.",
            "Data Protection Officer (DPO): gives independent advice and aims "
            "to return written advice within 15 working days of receiving a "
            "complete draft.",
        ],
    ),
    (
        "p",
        "The DPO advises but does not approve. If the SRO decides not to follow "
        "the DPO's advice, the reasons must be recorded in the DPIA itself.",
    ),
    ("pagebreak", ""),
    ("h2", "Completing the template"),
    (
        "p",
        "The DPS DPIA template has seven sections, and every one of them must be "
        "completed before sign-off:",
    ),
    (
        "ol",
        [
            "Description of the processing",
            "Necessity and proportionality",
            "Consultation, including with people affected by the system",
            "Risk identification",
            "Measures to reduce risk",
            "AI-specific risks",
            "Sign-off and review plan",
        ],
    ),
    (
        "p",
        "Risks are scored on a five-by-five matrix of likelihood and impact. "
        "Any risk with a score of 15 or more counts as a high risk.",
    ),
    ("h3", "AI-specific risks"),
    ("p", "Section 6 asks teams to consider risks that are particular to AI systems:"),
    (
        "ul",
        [
            "accuracy: how often the model is wrong, and what happens to a person when it is",
            "bias: whether error rates differ between groups of people",
            "explainability: whether a caseworker can explain an outcome to the person affected",
            "model drift: whether performance may degrade as real-world data changes",
        ],
    ),
    ("h2", "When high risk remains"),
    (
        "p",
        "If a high risk remains after all planned measures, processing must "
        "not start until the team has consulted the Information Oversight "
        "Office, the fictional independent regulator used in this sample. "
        "Allow at least eight weeks for this consultation in the project plan.",
    ),
    ("h2", "Review and record keeping"),
    (
        "p",
        "A DPIA must be reviewed at least every 12 months. It must also be "
        "reviewed sooner whenever:",
    ),
    (
        "ul",
        [
            "the model is retrained on new categories of data",
            "the purpose of the processing changes",
            "a new supplier or sub-processor is added",
        ],
    ),
    (
        "p",
        "Each version of the DPIA is stored in the DPS Assurance Register and "
        "kept for six years after the system is switched off.",
    ),
]

# ---------------------------------------------------------------------------
# 2. The AI champion role (English, DOCX)
# ---------------------------------------------------------------------------

CHAMPION_TITLE = "The AI Champion Role"
CHAMPION_BLOCKS: list[Block] = [
    (
        "p",
        "SAMPLE CONTENT – written by the Waymark project for demonstration "
        "only. This is not official government guidance.",
    ),
    (
        "p",
        "AI champions help colleagues in the Department for Public Services use "
        "AI tools confidently and safely. This guide describes what the role "
        "involves, who can apply and what support champions receive.",
    ),
    ("h2", "1. Purpose of the role"),
    (
        "p",
        "An AI champion is a member of staff who acts as the first point of "
        "contact for AI questions in their directorate. Champions are "
        "enthusiastic practitioners rather than technical experts. Their job "
        "is to share good practice, spot problems early and pass feedback to "
        "the teams that run AI services.",
    ),
    ("h2", "2. Time commitment and term"),
    (
        "ul",
        [
            "Champions spend about one day a week on the role, roughly 20 per "
            "cent of their working time.",
            "The time commitment is agreed in writing with the champion's line "
            "manager before the appointment starts.",
            "Appointments last for a two-year term, which can be renewed once.",
            "Each directorate has one champion; directorates with more than 400 "
            "staff appoint a second champion.",
        ],
    ),
    ("h2", "3. Main responsibilities"),
    (
        "ul",
        [
            "Run a monthly one-hour drop-in session, called the AI Clinic, for "
            "colleagues in the directorate.",
            "Help new users complete the mandatory training and find approved tools.",
            "Collect examples of good use and share them on the champions' intranet page.",
            "Submit a short quarterly report to the Digital Adoption Board, "
            "which is chaired by the Chief Data Officer.",
        ],
    ),
    (
        "p",
        "The quarterly report covers the number of people supported, the most "
        "common questions, and any risks or incidents the champion has noticed.",
    ),
    ("h2", "4. What champions do not do"),
    ("p", "To keep the role manageable and clear, champions are not responsible for:"),
    (
        "ul",
        [
            "approving or buying AI tools, which is a decision for the AI Procurement Board",
            "signing off data protection impact assessments",
            "giving legal advice or deciding whether an incident is a data breach",
        ],
    ),
    (
        "p",
        "Champions refer these matters to the right team and keep a short record of each referral.",
    ),
    ("h2", "5. Becoming a champion"),
    (
        "p",
        "The role is open to staff at any grade who have at least six months' "
        "experience in their directorate. Applicants write a 300-word "
        "statement explaining why they want the role and how they would "
        "support colleagues. Successful applicants attend the three-day "
        "Champion Induction, run by the Digital Adoption Team, before they "
        "start.",
    ),
    ("h3", "Recognition"),
    (
        "ul",
        [
            "The role is written into the champion's annual performance objectives.",
            "Champions receive a certificate when they complete their term.",
            "Champions can join a cross-government network of peers to exchange ideas.",
        ],
    ),
]

# ---------------------------------------------------------------------------
# 3. Evaluating AI pilots (French, DOCX)
# ---------------------------------------------------------------------------

PILOTES_TITLE = "Évaluer un projet pilote d'IA"
PILOTES_BLOCKS: list[Block] = [
    (
        "p",
        "CONTENU D'EXEMPLE – rédigé par le projet Waymark à des fins de "
        "démonstration uniquement. Il ne s'agit pas d'une consigne officielle "
        "de l'administration.",
    ),
    (
        "p",
        "Ce guide décrit la manière d'évaluer un projet pilote d'intelligence "
        "artificielle avant de décider de le généraliser. Il s'appuie sur une "
        "administration fictive ; les outils et les services cités sont "
        "inventés.",
    ),
    ("h2", "1. Cadrer le pilote"),
    (
        "ul",
        [
            "Un pilote dure entre 8 et 12 semaines ; en dessous, les effets "
            "d'apprentissage faussent les résultats.",
            "Il réunit entre 20 et 50 utilisateurs volontaires, issus d'au "
            "moins deux services différents.",
            "Un responsable métier et un référent technique sont désignés avant le lancement.",
            "Les objectifs et les seuils de réussite sont écrits avant le "
            "démarrage et ne sont plus modifiés ensuite.",
        ],
    ),
    ("h2", "2. Mesurer la situation de départ"),
    (
        "p",
        "Sans point de comparaison, aucun gain ne peut être démontré. Pendant "
        "les deux semaines qui précèdent le pilote, l'équipe mesure la "
        "situation de départ : temps moyen de traitement d'un dossier, nombre "
        "d'erreurs relevées en contrôle qualité, délai de réponse aux usagers. "
        "Les mêmes indicateurs sont ensuite mesurés de la même façon pendant "
        "le pilote.",
    ),
    ("h2", "3. Les cinq critères d'évaluation"),
    (
        "ul",
        [
            "Utilité : l'outil répond-il à un vrai besoin des agents ?",
            "Qualité : les productions sont-elles exactes et conformes ?",
            "Sécurité : les données sont-elles protégées et les incidents maîtrisés ?",
            "Coût : le coût total par utilisateur est-il soutenable à grande échelle ?",
            "Adoption : les agents continuent-ils à utiliser l'outil sans relance ?",
        ],
    ),
    ("h2", "4. Seuils de réussite"),
    (
        "p",
        "Le pilote est considéré comme réussi si les trois conditions suivantes sont remplies :",
    ),
    (
        "ul",
        [
            "au moins 70 % des utilisateurs déclarent gagner du temps dans "
            "l'enquête de fin de pilote ;",
            "le taux d'erreur constaté lors du contrôle qualité reste inférieur à 5 % ;",
            "aucun incident de sécurité grave n'a été signalé.",
        ],
    ),
    (
        "p",
        "L'enquête de fin de pilote comprend douze questions et doit obtenir un "
        "taux de réponse d'au moins 60 % pour que ses résultats soient pris en "
        "compte.",
    ),
    ("h2", "5. La décision"),
    (
        "p",
        "Le comité de passage à l'échelle se réunit dans les deux semaines qui "
        "suivent la fin du pilote. Il rassemble le directeur métier, le "
        "responsable de la sécurité des systèmes d'information et le délégué à "
        "la protection des données. Il choisit entre trois décisions :",
    ),
    (
        "ul",
        [
            "généraliser l'outil, avec un plan de déploiement et de formation ;",
            "prolonger le pilote une seule fois, pour quatre semaines au maximum ;",
            "arrêter le pilote et publier en interne un bilan des enseignements.",
        ],
    ),
    (
        "p",
        "Dans tous les cas, le rapport d'évaluation est archivé et partagé avec "
        "les autres équipes qui envisagent un projet similaire.",
    ),
]


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def build_pdf(path: Path, title: str, blocks: list[Block]) -> None:
    """Write a multi-page PDF with a title, headings, paragraphs and lists."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=styles["BodyText"], fontSize=11, leading=15)
    list_item = ParagraphStyle(
        "ListItem", parent=body, leftIndent=0.9 * cm, firstLineIndent=-0.45 * cm, spaceBefore=2
    )
    # 17 pt keeps this corpus's title on one line (a wrapped title extracts as two lines).
    title_style = ParagraphStyle(
        "DocTitle", parent=styles["Title"], fontName="Helvetica-Bold", fontSize=17
    )
    h2 = ParagraphStyle("H2", parent=styles["Heading1"], fontName="Helvetica-Bold", fontSize=15)
    h3 = ParagraphStyle("H3", parent=styles["Heading2"], fontName="Helvetica-Bold", fontSize=12.5)

    story: list[Flowable] = [Paragraph(escape(title), title_style), Spacer(1, 0.3 * cm)]
    for kind, content in blocks:
        if kind == "pagebreak":
            story.append(PageBreak())
        elif kind == "h2":
            story.append(Paragraph(escape(str(content)), h2))
        elif kind == "h3":
            story.append(Paragraph(escape(str(content)), h3))
        elif kind == "p":
            story.append(Paragraph(escape(str(content)), body))
        elif kind in ("ul", "ol"):
            # The marker ("-" or "1.") is part of the item text (hanging indent), so
            # extracted text keeps it on the same line; reportlab's core-font bullet
            # glyph extracts as \x7f, so a plain hyphen is used.
            for number, item in enumerate(content, start=1):
                marker = "-" if kind == "ul" else f"{number}."
                story.append(Paragraph(f"{marker} {escape(item)}", list_item))
        else:
            raise ValueError(f"unknown block kind: {kind}")

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=title,
        author="Waymark project (sample content)",
        subject="SAMPLE CONTENT – not official government guidance",
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        invariant=True,  # no creation date or random ID: reproducible output
    )
    doc.build(story)


def build_docx(path: Path, title: str, blocks: list[Block], language: str) -> None:
    """Write a .docx using built-in Heading 1/2/3 and list styles."""
    doc = Document()
    props = doc.core_properties
    props.title = title
    props.author = "Waymark project (sample content)"
    props.subject = "SAMPLE CONTENT – not official government guidance"
    props.language = language
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1

    doc.add_heading(title, level=1)
    for kind, content in blocks:
        if kind == "pagebreak":
            continue  # page layout is only meaningful for the PDF
        if kind == "h2":
            doc.add_heading(str(content), level=2)
        elif kind == "h3":
            doc.add_heading(str(content), level=3)
        elif kind == "p":
            doc.add_paragraph(str(content))
        elif kind == "ul":
            for item in content:
                doc.add_paragraph(item, style="List Bullet")
        elif kind == "ol":
            for item in content:
                doc.add_paragraph(item, style="List Number")
        else:
            raise ValueError(f"unknown block kind: {kind}")
    doc.save(str(path))
    _normalise_zip(path)


def _normalise_zip(path: Path) -> None:
    """Rewrite a .docx with fixed member timestamps so rebuilds are byte-identical."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)


OUTPUTS = (
    "dpia-for-ai-projects.en.pdf",
    "ai-champion-role.en.docx",
    "evaluation-pilotes-ia.fr.docx",
)


def main() -> None:
    pdf_name, champion_name, pilotes_name = OUTPUTS
    build_pdf(HERE / pdf_name, DPIA_TITLE, DPIA_BLOCKS)
    build_docx(HERE / champion_name, CHAMPION_TITLE, CHAMPION_BLOCKS, "en-GB")
    build_docx(HERE / pilotes_name, PILOTES_TITLE, PILOTES_BLOCKS, "fr-FR")
    for name in OUTPUTS:
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
