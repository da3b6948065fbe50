"""The answer path, top to bottom.

A question becomes an ``Answer`` by passing through ``Pipeline.steps`` in order:

1. ``check_input``        personal data redacted first, whatever the policy; then the guardrails on
                          the question (may clean it further, or block)
2. ``rewrite_follow_up``  with history, rewrite the question so it stands alone; the rewritten
                          question passes the input guardrails again
3. ``translate_question`` if turned on (off by default: decision 0014), a question not in English gets
                          the model's English translation, past the input guardrails, to search beside
                          it and rank lines against (never shown)
4. ``retrieve``           search the guidance (with the translation, fused); guardrails on the passages
                          (may quarantine some); abstain if nothing is close enough
5. ``extract_quotes``     strategy "extract" only: the model reads the lines closest to the
                          question (translated where possible) and copies the words that answer (from
                          up to 3 lines for a list); the line they stand in verbatim is the quote. A
                          yes/no question: the 2 closest lines, each read alone with the question by a
                          call constrained to yes/no/unclear; the first that says yes or no is the quote
                          and the answer leads with it. No such line: abstain
6. ``decide_to_answer``   the calibrated probability that the quote answers (``assistant.confidence``,
                          from the retrieval and quote signals); below the threshold: abstain
7. ``build_prompt``       the verified quotes, or numbered fenced passages, + the question
8. ``generate``           stream the model's reply (retries and failures in ``assistant.llm``); held
                          back, and shown only in units the output guardrails have passed
                          (``assistant.release``); an extracted quote is not shown before step 10
9. ``cite``               quotes with exact offsets; keep only valid [n] markers; abstain if uncited,
                          or if a written answer states numbers or names its quotes do not
10. ``check_output``      guardrails on the whole answer (may change it, or block)
11. ``release``           show the rest of the checked answer

Each step reads and writes one ``Turn``; a step that settles the outcome (blocked,
abstained, error) sets ``turn.status`` and the remaining steps are skipped, and whatever was
shown is withdrawn. ``assemble`` then turns the ``Turn`` into the ``Answer``. An unexpected
exception in any step becomes status ``error`` with a plain message and a ``trace_id`` to find
it in the log (which never holds the question).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from assistant import confidence, quotes, yes_no
from assistant.answer_config import AnswerConfig
from assistant.citations import (
    Similarity,
    build_citations,
    citation,
    clean_markers,
    says_not_covered,
)
from assistant.events import Events
from assistant.messages import MessageKey, message
from assistant.prompts import (
    NOT_COVERED,
    answer_messages,
    quote_answer_messages,
    rewrite_messages,
    span_messages,
    where,
    yes_no_messages,
)
from assistant.release import HoldBack
from assistant.translation import PIVOT, question_translation
from guardrails.contracts import Answer, Citation, GuardrailRecord, Rails, SourceRef, Status, Timings
from guardrails.facts import unsupported_facts
from guardrails.stages import PassThroughRails
from knowledge.language import UNDETERMINED, detect_language
from knowledge.models import SearchHit

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from assistant.llm import ChatClient, Generation

log = logging.getLogger(__name__)


class Searcher(Protocol):
    def search(self, query: str, k: int | None = None, *, also: Sequence[str] = ()) -> list[SearchHit]:
        """The ``k`` best passages for ``query``; each text in ``also`` is searched too, fused in one ranking."""
        ...


class Translations(Protocol):
    def get_many(self, texts: Iterable[str]) -> dict[str, str]:
        """``{original: machine translation}`` for the texts that have one."""
        ...


@dataclass
class Turn:
    """Everything one question accumulates on its way through the steps."""

    question: str
    history: list[tuple[str, str]]
    rails: Rails = field(default_factory=PassThroughRails)
    """The policy this answer is judged by, fixed for the whole answer (a new one may be activated meanwhile)."""
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.perf_counter)
    language: str = "en"
    query: str = ""
    pivot_query: str = ""
    """The question's English translation when it is in another language: searched beside it and ranked lines
    against, never shown and never read by the model."""
    hits: list[SearchHit] = field(default_factory=list)
    passages: list[SearchHit] = field(default_factory=list)
    spans: list[quotes.Span] = field(default_factory=list)
    """Extract strategy: the answer's words as the model copied them, from one line or (a list) up to
    ``quotes.MAX_LINES``; each ``span.unit`` is a quote, the first the closest to the question."""
    signals: dict[str, float] = field(default_factory=dict)
    """What the decision to answer rests on (``assistant.confidence``)."""
    confidence: float | None = None
    """The calibrated probability that the quoted answer is right."""
    verdict: Literal["yes", "no"] | None = None
    """A yes/no question's answer, as its quote alone says it."""
    prompt: list[BaseMessage] = field(default_factory=list)
    generation: Generation | None = None
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    guardrails: list[GuardrailRecord] = field(default_factory=list)
    status: Status | None = None
    reason: str | None = None
    message: str | None = None
    timings: Timings = field(default_factory=Timings)
    shown: HoldBack = field(default_factory=lambda: HoldBack(Events()))
    """What the caller has been shown of the answer (only what the output guardrails passed)."""

    def settle(self, status: Status, reason: str, message_key: MessageKey | None = None,
               text: str | None = None) -> None:
        self.status, self.reason = status, reason
        self.message = text if text is not None else message(message_key, self.language) if message_key else None

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


class Pipeline:
    def __init__(self, searcher: Searcher, llm: ChatClient, *, rails: Rails | None = None,
                 config: AnswerConfig | None = None, similarity: Similarity | None = None,
                 translations: Translations | None = None, decision: confidence.AnswerDecision | None = None) -> None:
        self.searcher = searcher
        self.decision = decision
        self.translations = translations
        self.llm = llm
        self.rails: Rails = rails or PassThroughRails()
        config = config or AnswerConfig()
        if config.strategy == "auto":  # the embedded CPU model copies a quote; hosted models cite (0005)
            config = config.model_copy(update={"strategy": "extract" if llm.name.startswith("local:") else "cite"})
        self.config = config
        self.similarity = similarity
        self.steps: list[Callable[[Turn, Events], None]] = [
            self.check_input, self.rewrite_follow_up, self.translate_question, self.retrieve, self.extract_quotes,
            self.decide_to_answer, self.build_prompt, self.generate, self.cite, self.check_output, self.release,
        ]

    def replace(self, *, searcher: Searcher | None = None, rails: Rails | None = None) -> Pipeline:
        """The same pipeline with another searcher or other rails (a draft policy's test drive, a suite's
        planted passage); everything else is shared."""
        return Pipeline(searcher or self.searcher, self.llm, rails=rails or self.rails, config=self.config,
                        similarity=self.similarity, translations=self.translations, decision=self.decision)

    def answer(self, question: str, history: Sequence[tuple[str, str]] = (), events: Events | None = None) -> Answer:
        events = events or Events()
        turn = Turn(question=question, history=list(history)[-self.config.history_turns:]
                    if self.config.history_turns else [], rails=self.rails.snapshot(), shown=HoldBack(events))
        try:
            for step in self.steps:
                step(turn, events)
                if turn.status:
                    break
        except Exception:  # never the question in the log: it may still hold personal data here
            log.exception("trace %s: unexpected failure answering", turn.trace_id)
            turn.settle("error", "internal_error", "error")
        if turn.status:  # blocked, abstained or failed after all: withdraw what was shown
            turn.shown.retract(turn.message or message("error", turn.language))
        return self.assemble(turn)

    # --- the steps, in order ------------------------------------------------------------------
    def check_input(self, turn: Turn, events: Events) -> None:
        events.stage("checking_question")
        turn.language = _language(turn.question, turn.history)
        result = turn.rails.check_input(turn.question, turn.language)
        turn.guardrails += result.records
        # what the rails let through (personal data redacted) is the question from here on, in the
        # answer's record too: the raw text stays with the user
        turn.question = turn.query = result.text
        if result.blocked:
            turn.settle("blocked", "input_rail", "blocked", result.message)

    def rewrite_follow_up(self, turn: Turn, events: Events) -> None:
        if not turn.history:
            return
        events.stage("rewriting")
        gen = self.llm.complete(rewrite_messages(turn.history, turn.query))
        rewritten = gen.text.strip().strip('"“”').strip()
        if gen.error or not rewritten or NOT_COVERED in rewritten or len(rewritten) > 3 * len(turn.query) + 200:
            log.info("trace %s: follow-up rewrite unusable (%s); searching with the last question too",
                     turn.trace_id, gen.error or "empty or overlong")
            rewritten = f"{turn.history[-1][0]} {turn.query}"
        # the model wrote this question: it goes to search and the model only past the input rails too
        result = turn.rails.check_input(rewritten, turn.language)
        turn.guardrails += [r.model_copy(update={"subject": "standalone question"}) for r in result.records]
        turn.query = result.text
        if result.blocked:
            turn.settle("blocked", "input_rail", "blocked", result.message)

    def translate_question(self, turn: Turn, events: Events) -> None:
        if not self.config.translate_question or turn.language in (PIVOT, UNDETERMINED):
            return
        events.stage("translating")
        translation = question_translation(self.llm, turn.query)
        if translation is None:  # search with the question alone, as before
            log.info("trace %s: no usable translation of the question", turn.trace_id)
            return
        # the model wrote this text: it goes to search only past the input rails too
        result = turn.rails.check_input(translation, PIVOT)
        turn.guardrails += [r.model_copy(update={"subject": "question's translation"}) for r in result.records]
        turn.pivot_query = result.text
        if result.blocked:
            turn.settle("blocked", "input_rail", "blocked", result.message)

    def retrieve(self, turn: Turn, events: Events) -> None:
        events.stage("searching")
        t0 = time.perf_counter()
        hits = self.searcher.search(turn.query, k=max(self.config.search_k, self.config.passages),
                                    also=[turn.pivot_query] if turn.pivot_query else [])
        checked = turn.rails.check_passages(hits, turn.language)  # quarantines passages that carry instructions
        turn.hits = checked.passages
        turn.guardrails += checked.records
        turn.timings.retrieve = round((time.perf_counter() - t0) * 1000, 1)
        turn.passages = turn.hits[: self.config.passages]
        best = max((h.similarity for h in turn.hits), default=0.0)
        if best < self.config.abstain_below:
            turn.settle("abstained", "low_retrieval_score", "not_covered")

    def extract_quotes(self, turn: Turn, events: Events) -> None:
        if self.config.strategy == "cite":
            return
        events.stage("reading")
        turn.passages = turn.hits[: self.config.extract_passages]
        texts = [p.text[s:e] for p in turn.passages for s, e in quotes.text_units(p.text)]
        known = self.translations.get_many(texts) if self.translations else {}
        candidates = quotes.units(turn.passages, known)
        groups = ([[u for u in candidates if u.n == n] for n in range(1, len(turn.passages) + 1)]
                  if self.config.strategy == "per-passage" else [candidates])
        polar = yes_no.asks_yes_no(turn.query)
        several = not polar and quotes.asks_for_list(turn.query)
        for group in filter(None, groups):
            scored = quotes.ranked(turn.query, group, self.similarity, also=turn.pivot_query)[: self.config.shortlist]
            pool = [u for u, _ in scored]
            if polar:
                self._settle_yes_no(turn, scored)
                return
            gen = self.llm.complete(span_messages(turn.query, [u.shown for u in quotes.in_document_order(pool)],
                                                  several),
                                    response_format=quotes.spans_format() if several else quotes.span_format())
            if gen.error and not gen.text:
                turn.settle("error", f"llm_{gen.error}", "error")
                return
            copied = quotes.read_spans(gen.text) if several else _listed(quotes.read_span(gen.text))
            if copied is None:  # e.g. a backend that ignores JSON schemas: answer with [n] citations instead
                log.info("trace %s: unusable reply %r; falling back to cited answering", turn.trace_id,
                         gen.text[:200])
                turn.passages = turn.hits[: self.config.passages]
                return
            if spans := self._located(turn, copied, pool):
                turn.spans = spans
                turn.signals = confidence.signals(turn.query, turn.language, turn.hits, turn.passages, scored,
                                                  spans, False)
                return
        turn.settle("abstained", "no_answer_span", "not_covered")

    def _settle_yes_no(self, turn: Turn, scored: Sequence[tuple[quotes.Unit, float]]) -> None:
        """A yes/no question: the closest lines, one at a time, each read alone with the question by a call
        constrained to yes, no or unclear; the first that says yes or no is the quote. (A 1.5B model asked to copy
        the words that settle it copies "yes".) None does: abstain rather than guess."""
        for u, _ in scored[: yes_no.LINES]:
            gen = self.llm.complete(yes_no_messages(turn.query, u.shown), response_format=yes_no.verdict_format())
            if gen.error and not gen.text:
                turn.settle("error", f"llm_{gen.error}", "error")
                return
            verdict = yes_no.read_verdict(gen.text)
            log.info("trace %s: yes/no verdict %s over line %d:%d of passage %d", turn.trace_id, verdict, u.start,
                     u.end, u.n)
            if verdict == "yes" or verdict == "no":
                turn.spans, turn.verdict = [quotes.Span(u, u.shown)], verdict
                turn.signals = confidence.signals(turn.query, turn.language, turn.hits, turn.passages, scored,
                                                  turn.spans, True)
                return
        turn.settle("abstained", "yes_no_unclear", "not_covered")

    def _located(self, turn: Turn, copied: Sequence[str], pool: Sequence[quotes.Unit]) -> list[quotes.Span]:
        """The lines in which the copied words stand verbatim and answer the kind of question asked, each once."""
        spans: list[quotes.Span] = []
        for words in copied:
            span = quotes.locate(words, pool)
            if span is None:
                log.info("trace %s: copied words %r stand in no line", turn.trace_id, words)
            elif not quotes.fits(turn.query, span.text):
                log.info("trace %s: copied words %r are not what the question asks for", turn.trace_id, words)
            elif all(s.unit != span.unit for s in spans):
                p = turn.passages[span.unit.n - 1]
                log.info("trace %s: quoting %s[%d:%d] for %r", turn.trace_id, p.source, p.start + span.unit.start,
                         p.start + span.unit.end, span.text)
                spans.append(span)
        return spans

    def decide_to_answer(self, turn: Turn, events: Events) -> None:
        if not turn.signals or self.decision is None or self.config.min_confidence == 0:
            return
        turn.confidence = round(self.decision.probability(turn.signals), 4)
        threshold = self.decision.threshold if self.config.min_confidence is None else self.config.min_confidence
        if turn.confidence < threshold:
            log.info("trace %s: quote judged unlikely to answer (p=%.3f < %.2f); abstaining", turn.trace_id,
                     turn.confidence, threshold)
            turn.settle("abstained", "low_confidence", "not_covered")

    def build_prompt(self, turn: Turn, events: Events) -> None:
        if turn.spans and turn.language not in self.config.write_languages:
            turn.text = self._quoted(turn)  # no prompt: the quotes are the answer
        elif turn.spans:
            shown = [(where(turn.passages[u.n - 1]) + (", machine translation" if u.translated else ""), u.shown)
                     for u in self._units(turn)]
            turn.prompt = quote_answer_messages(turn.query, shown, turn.language)
        else:
            turn.prompt = answer_messages(turn.query, turn.passages, turn.language)

    def generate(self, turn: Turn, events: Events) -> None:
        events.stage("writing")
        if not turn.prompt:  # the quote is the answer: shown once the output rails have passed it
            turn.timings.first_token = turn.elapsed_ms()
            return
        called_ms = turn.elapsed_ms()
        # a cited answer streams, unit by unit, through the output rails; one written from a quote is
        # checked against it first (step 7), so nothing of it is shown before step 9
        gen = self.llm.stream(turn.prompt, on_text=None if turn.spans else turn.shown.streaming(self._partial(turn)))
        turn.generation = gen
        if gen.first_token_s is not None:
            turn.timings.first_token = round(called_ms + gen.first_token_s * 1000, 1)
        turn.text = gen.text
        if gen.error and not gen.text:
            log.warning("trace %s: model failed after %d attempt(s): %s %s", turn.trace_id, gen.attempts,
                        gen.error, gen.error_detail)
            turn.settle("error", f"llm_{gen.error}", "error")

    def cite(self, turn: Turn, events: Events) -> None:
        if turn.spans:
            self._cite_quotes(self._units(turn), turn)
            return
        cleaned, used, dropped = clean_markers(turn.text, range(1, len(turn.passages) + 1))
        if dropped:
            log.info("trace %s: dropped citation markers %s (only %d passages)", turn.trace_id, dropped,
                     len(turn.passages))
        cut = turn.generation is not None and turn.generation.truncated
        if says_not_covered(turn.text, bool(used)):
            turn.settle("abstained", "model_not_covered", "not_covered")
        elif not used:
            if cut:
                turn.settle("error", "llm_cut", text=f"{cleaned}\n\n{message('cut', turn.language)}".strip())
            else:
                turn.settle("abstained", "no_valid_citation", "uncited")
        else:
            turn.text = cleaned + (f"\n\n{message('cut', turn.language)}" if cut else "")
            turn.citations = build_citations(cleaned, turn.passages, self.similarity)

    def _partial(self, turn: Turn) -> Callable[[str], str | None]:
        """What of a cited answer so far may be shown: its markers cleaned as ``cite`` will, once it cites
        a passage and is not the sentinel, as the output rails that judge partial answers leave it."""
        valid = range(1, len(turn.passages) + 1)

        def check(so_far: str) -> str | None:
            cleaned, used, _ = clean_markers(so_far, valid)
            if not used or NOT_COVERED in so_far:
                return None
            result = turn.rails.check_partial(cleaned, set(used), turn.passages, turn.language)
            return None if result.blocked else result.text

        return check

    @staticmethod
    def _units(turn: Turn) -> list[quotes.Unit]:
        """The quoted lines, as the answer shows them: in document order."""
        return quotes.in_document_order([s.unit for s in turn.spans])

    def _cite_quotes(self, units: Sequence[quotes.Unit], turn: Turn) -> None:
        """Extract strategy: the answer rests on its quotes, which become its citations."""
        cut = turn.generation is not None and turn.generation.truncated
        text = turn.text
        if turn.generation is not None:  # the model wrote the answer: check it against its quotes
            if says_not_covered(text, has_valid_citation=False):
                turn.settle("abstained", "model_not_covered", "not_covered")
                return
            text, _used, _dropped = clean_markers(text, [])  # markers the model invented mean nothing here
            evidence = " ".join([turn.query, *(f"{where(turn.passages[u.n - 1])} {u.text} {u.shown}" for u in units)])
            if missing := unsupported_facts(text, evidence, check_names=turn.language == "en"):
                # an answer that adds a number or a name its quotes do not hold means the quotes did
                # not answer the question (or the model invented): say so rather than guess
                log.info("trace %s: answer %r states %s, not in its quotes; abstaining", turn.trace_id, text,
                         sorted(missing))
                turn.settle("abstained", "unsupported_answer", "not_covered")
                return
        markers = "".join(f"[{n}]" for n in dict.fromkeys(u.n for u in units))
        turn.text = f"{text} {markers}" + (f"\n\n{message('cut', turn.language)}" if cut else "")
        turn.citations = [citation(u.n, turn.passages[u.n - 1], u.start, u.end) for u in units]

    def _quoted(self, turn: Turn) -> str:
        """The quotes as the answer: each in the original when it is in the asker's language, else in the
        pivot translation where there is one (marked as a machine translation); led by "Yes" or "No" for a
        yes/no question, or by the words the model copied from a single line when those are in the asker's
        language and not the whole line."""
        shown = []
        for u in self._units(turn):
            if turn.passages[u.n - 1].language == turn.language or not u.translated:
                shown.append(f"“{u.text}”")
            else:
                shown.append(f"“{u.shown}” {message('machine_translation', turn.language)}")
        text = f"{message('quote_intro', turn.language)} {' '.join(shown)}"
        if turn.verdict:  # "Yes. The guidance says: “…”"
            return f"{message(turn.verdict, turn.language)} {text}"
        span, u = turn.spans[0], turn.spans[0].unit
        read_in = PIVOT if u.translated else turn.passages[u.n - 1].language
        if len(turn.spans) == 1 and len(span.text) < 0.8 * len(u.shown) and read_in == turn.language:
            text = f"{span.text[0].upper()}{span.text[1:]}. {text}"
        return text

    def check_output(self, turn: Turn, events: Events) -> None:
        events.stage("checking_answer")
        result = turn.rails.check_output(turn.text, turn.citations, turn.passages, turn.language)
        turn.guardrails += result.records
        turn.text = result.text
        if result.blocked:
            turn.citations = []
            turn.settle("blocked", "output_rail", "blocked", result.message)

    def release(self, turn: Turn, events: Events) -> None:
        turn.shown.finish(turn.text)

    # --- the result ---------------------------------------------------------------------------
    def assemble(self, turn: Turn) -> Answer:
        turn.timings.total = turn.elapsed_ms()
        turn.timings.first_release = turn.shown.first_release_ms
        status: Status = turn.status or "answered"
        answered = status == "answered"
        return Answer(
            question=turn.question,
            answer=turn.text if answered else (turn.message or message("error", turn.language)),
            status=status,
            language=turn.language,
            citations=turn.citations if answered else [],
            guardrails=turn.guardrails,
            model=self.llm.name,
            policy_version=turn.rails.policy_version,
            timings_ms=turn.timings,
            trace_id=turn.trace_id,
            standalone_question=turn.query if turn.query and turn.query != turn.question else None,
            closest=self.closest_passages(turn),
            reason=turn.reason,
            truncated=bool(turn.generation and turn.generation.truncated),
            retracted=turn.shown.retracted,
            signals=turn.signals,
            confidence=turn.confidence,
        )

    def closest_passages(self, turn: Turn) -> list[SourceRef]:
        """The closest documents; when the answer abstains, each with the line of its best passage closest
        to the question (verbatim, with offsets), so that the user can read on where the guidance comes
        closest. These passages passed the retrieval rails; a failure here leaves the quotes out."""
        refs = _closest(turn.hits)
        if turn.status != "abstained" or not refs:
            return refs
        try:
            best = {ref.source: max((h for h in turn.hits if h.source == ref.source), key=lambda h: h.similarity)
                    for ref in refs}
            withheld = self._withheld(turn)
            return [_quoting(ref, *withheld[1:]) if withheld and withheld[0] == ref.source
                    else self._with_line(ref, best[ref.source], turn.query) for ref in refs]
        except Exception:  # the abstention stands without its quotes
            log.exception("trace %s: closest lines unavailable; the documents alone are shown", turn.trace_id)
            return refs

    @staticmethod
    def _withheld(turn: Turn) -> tuple[str, SearchHit, quotes.Unit] | None:
        """A quote the decision to answer withheld (its document, passage and line): the line its document is
        shown with, the one the model found rather than the one closest by embeddings (often a heading)."""
        if turn.reason != "low_confidence" or not turn.spans:
            return None
        u = turn.spans[0].unit
        hit = turn.passages[u.n - 1]
        return hit.source, hit, u

    def _with_line(self, ref: SourceRef, hit: SearchHit, query: str) -> SourceRef:
        pieces = [hit.text[s:e] for s, e in quotes.text_units(hit.text)]
        known = self.translations.get_many(pieces) if self.translations else {}
        best = quotes.shortlist(query, quotes.units([hit], known), self.similarity, 1)
        return _quoting(ref, hit, best[0]) if best else ref


def _quoting(ref: SourceRef, hit: SearchHit, u: quotes.Unit) -> SourceRef:
    """``ref`` with line ``u`` of passage ``hit`` as its verbatim quote, with offsets in the document."""
    return ref.model_copy(update={"quote": u.text, "start": hit.start + u.start, "end": hit.start + u.end,
                                  "language": hit.language})


def _listed(words: str | None) -> list[str] | None:
    """One copied piece as a list (none when nothing was copied); None stays None (an unusable reply)."""
    return None if words is None else [words] if words else []


def _language(question: str, history: Sequence[tuple[str, str]]) -> str:
    lang = detect_language(question)
    if lang == UNDETERMINED and history:
        lang = detect_language(history[-1][0])
    return "en" if lang == UNDETERMINED else lang


def _closest(hits: Sequence[SearchHit], n: int = 3) -> list[SourceRef]:
    seen: dict[str, SourceRef] = {}
    for h in sorted(hits, key=lambda h: -h.similarity):
        if h.source not in seen:
            seen[h.source] = SourceRef(source=h.source, title=h.title, section=h.section,
                                       score=round(h.similarity, 4))
    return list(seen.values())[:n]
