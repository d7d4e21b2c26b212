"""Demo content for the marketplace: providers, services, policies, consumers and plans.

Pure data, no database access; :mod:`persistence.seed` loads it. Every name, domain and address
is fictional (the ``.example`` top-level domain is reserved for documentation).

Dates are not absolute: versions carry ``days_ago`` and the loader turns them into aware UTC
timestamps relative to the ``now`` it is given, so the demo always looks recent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import semver

from persistence.models.catalog import PricingModel, ServiceStatus
from persistence.models.governance import Enforcement
from persistence.models.usage import PlanTier

SEED_ACTOR = "seed"
USAGE_RANDOM_SEED = 20_240_611
USAGE_RECORD_COUNT = 200
USAGE_WINDOW_DAYS = 30


# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderSeed:
    slug: str
    name: str
    description: str
    domain: str  # not stored; the website, e-mail and service URLs derive from it
    owner_subject: str

    @property
    def website(self) -> str:
        return f"https://{self.domain}"

    @property
    def contact_email(self) -> str:
        return f"partners@{self.domain}"


@dataclass(frozen=True)
class VersionSeed:
    version: str
    changelog: str
    days_ago: int


@dataclass(frozen=True)
class PricingSeed:
    model: PricingModel
    currency: str = "USD"
    input_price_per_1k: Decimal | None = None
    output_price_per_1k: Decimal | None = None
    request_price: Decimal | None = None


@dataclass(frozen=True)
class ServiceSeed:
    provider_slug: str
    slug: str
    name: str
    description: str
    category: str
    tags: tuple[str, ...]
    versions: tuple[VersionSeed, ...]
    pricing: PricingSeed
    endpoint_url: str
    data_region: str
    pii_handling: str
    privacy_policy_url: str | None
    terms_url: str | None
    status: ServiceStatus = ServiceStatus.ACTIVE
    status_reason: str | None = None

    @property
    def current_version(self) -> str:
        return str(max(semver.Version.parse(v.version) for v in self.versions))

    @property
    def created_days_ago(self) -> int:
        return max(v.days_ago for v in self.versions)


@dataclass(frozen=True)
class PolicySeed:
    name: str
    description: str
    enforcement: Enforcement
    rules: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ConsumerSeed:
    subject: str
    name: str
    email: str


@dataclass(frozen=True)
class PlanSeed:
    tier: PlanTier
    requests_per_second: int
    burst: int
    monthly_request_quota: int | None
    monthly_token_quota: int | None
    monthly_budget: Decimal | None = None


@dataclass(frozen=True)
class SubscriptionSeed:
    consumer_subject: str
    service_slug: str
    plan_tier: PlanTier
    days_ago: int


@dataclass(frozen=True)
class ViolationSeed:
    """A compliance finding recorded for a seeded ACTIVE service (all others are clean)."""

    service_slug: str
    score: Decimal
    violations: tuple[dict[str, str], ...]


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------

PLANS: tuple[PlanSeed, ...] = (
    PlanSeed(PlanTier.FREE, 1, 5, 1_000, 100_000),
    PlanSeed(PlanTier.BASIC, 10, 20, 100_000, 10_000_000),
    PlanSeed(PlanTier.PRO, 100, 200, 1_000_000, 100_000_000),
    PlanSeed(PlanTier.ENTERPRISE, 1_000, 2_000, None, None),
)


# --------------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------------

PROVIDERS: tuple[ProviderSeed, ...] = (
    ProviderSeed(
        slug="nimbus",
        name="Nimbus AI",
        description=(
            "General-purpose large language models for chat, writing and coding, served from "
            "US data centres with an OpenAI-compatible API."
        ),
        domain="nimbus.example",
        owner_subject="provider:nimbus",
    ),
    ProviderSeed(
        slug="lexica",
        name="Lexica Labs",
        description=(
            "Retrieval infrastructure from Amsterdam: multilingual embeddings, rerankers and "
            "grounded summarisation, hosted exclusively in the EU."
        ),
        domain="lexica.example",
        owner_subject="provider:lexica",
    ),
    ProviderSeed(
        slug="polyglot",
        name="Polyglot Systems",
        description=(
            "Neural machine translation and localisation for more than 120 languages, with "
            "glossary support and document-format preservation."
        ),
        domain="polyglot.example",
        owner_subject="provider:polyglot",
    ),
    ProviderSeed(
        slug="sonora",
        name="Sonora Audio",
        description=(
            "Speech recognition and natural-sounding speech synthesis, batch or streaming, "
            "tuned for call centres, meetings and media."
        ),
        domain="sonora.example",
        owner_subject="provider:sonora",
    ),
    ProviderSeed(
        slug="vistara",
        name="Vistara Vision",
        description=(
            "Computer vision and image generation from Singapore: OCR, detection, captioning "
            "and diffusion models with commercial-use licences."
        ),
        domain="vistara.example",
        owner_subject="provider:vistara",
    ),
    ProviderSeed(
        slug="sentinel",
        name="Sentinel Trust",
        description=(
            "Trust and safety APIs: content moderation, PII detection and prompt-injection "
            "shields, audited against the EU Digital Services Act."
        ),
        domain="sentinel.example",
        owner_subject="provider:sentinel",
    ),
    ProviderSeed(
        slug="forgeline",
        name="Forgeline Labs",
        description=(
            "Code models for developer tools: completion, review, chat over repositories and "
            "natural-language-to-SQL."
        ),
        domain="forgeline.example",
        owner_subject="provider:forgeline",
    ),
)

_PROVIDER_BY_SLUG = {p.slug: p for p in PROVIDERS}


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def _tok(input_price: str, output_price: str, currency: str = "USD") -> PricingSeed:
    return PricingSeed(
        PricingModel.PER_TOKEN,
        currency=currency,
        input_price_per_1k=Decimal(input_price),
        output_price_per_1k=Decimal(output_price),
    )


def _req(price: str, currency: str = "USD") -> PricingSeed:
    return PricingSeed(PricingModel.PER_REQUEST, currency=currency, request_price=Decimal(price))


def _v(version: str, changelog: str, days_ago: int) -> VersionSeed:
    return VersionSeed(version, changelog, days_ago)


def _svc(
    provider: str,
    slug: str,
    name: str,
    category: str,
    description: str,
    *,
    tags: tuple[str, ...],
    versions: tuple[VersionSeed, ...],
    pricing: PricingSeed,
    path: str,
    region: str,
    pii: str = "none",
    status: ServiceStatus = ServiceStatus.ACTIVE,
    status_reason: str | None = None,
    legal: bool = True,
) -> ServiceSeed:
    domain = _PROVIDER_BY_SLUG[provider].domain
    return ServiceSeed(
        provider_slug=provider,
        slug=slug,
        name=name,
        description=description,
        category=category,
        tags=tags,
        versions=versions,
        pricing=pricing,
        endpoint_url=f"https://api.{domain}/v1/{path}",
        data_region=region,
        pii_handling=pii,
        privacy_policy_url=f"https://{domain}/legal/privacy" if legal else None,
        terms_url=f"https://{domain}/legal/terms" if legal else None,
        status=status,
        status_reason=status_reason,
    )


SERVICES: tuple[ServiceSeed, ...] = (
    # ---------------------------------------------------------------- Nimbus AI (US)
    _svc(
        "nimbus",
        "nimbus-chat-pro",
        "Nimbus Chat Pro",
        "chat",
        "Flagship conversational model with a 128K-token context window, function calling and "
        "JSON mode. Strong reasoning in English, Spanish, German, French and Japanese.",
        tags=("gpt-compatible", "openai-api", "streaming", "long-context", "function-calling"),
        versions=(
            _v("1.0.0", "Initial release with 32K context.", 240),
            _v("1.1.0", "Function calling and JSON mode.", 150),
            _v("2.0.0-beta.1", "Preview of the 128K-context model.", 70),
            _v("2.0.0", "128K context generally available; 30% lower latency.", 40),
        ),
        pricing=_tok("0.003", "0.009"),
        path="chat-pro",
        region="us",
        pii="redacted",
    ),
    _svc(
        "nimbus",
        "nimbus-chat-lite",
        "Nimbus Chat Lite",
        "chat",
        "Small, fast chat model for high-volume assistants and routing. 16K-token context, "
        "median time to first token under 150 ms.",
        tags=("low-latency", "openai-api", "streaming", "gpt-compatible"),
        versions=(
            _v("1.0.0", "Initial release.", 200),
            _v("1.1.0", "Better instruction following; tool-use support.", 90),
        ),
        pricing=_tok("0.0002", "0.0006"),
        path="chat-lite",
        region="us",
    ),
    _svc(
        "nimbus",
        "nimbus-text-large",
        "Nimbus Text Large",
        "text-generation",
        "Completion model for long-form writing, drafting and structured extraction. "
        "64K-token context and deterministic sampling for reproducible output.",
        tags=("long-context", "openai-api", "streaming"),
        versions=(
            _v("1.0.0", "Initial release.", 300),
            _v("1.2.0", "Context extended to 64K tokens.", 120),
        ),
        pricing=_tok("0.002", "0.006"),
        path="text-large",
        region="us",
    ),
    _svc(
        "nimbus",
        "nimbus-instruct-7b",
        "Nimbus Instruct 7B",
        "text-generation",
        "Compact 7B-parameter instruction-tuned model with an 8K-token context window. "
        "Superseded by Nimbus Text Large.",
        tags=("openai-api", "low-latency"),
        versions=(
            _v("1.0.0", "Initial release.", 420),
            _v("1.0.1", "Fix for truncated stop sequences.", 380),
        ),
        pricing=_tok("0.0001", "0.0002"),
        path="instruct-7b",
        region="us",
        status=ServiceStatus.DEPRECATED,
        status_reason="Superseded by Nimbus Text Large; scheduled for retirement in 90 days.",
    ),
    _svc(
        "nimbus",
        "nimbus-longdoc",
        "Nimbus LongDoc Summarizer",
        "summarization",
        "Summarises reports, contracts and transcripts up to 200K tokens into executive "
        "briefs, bullet points or Q&A. Cites the source passage for each claim.",
        tags=("long-context", "rag", "citations"),
        versions=(
            _v("1.0.0", "Initial release.", 180),
            _v("1.1.0", "Citation spans and bullet-point mode.", 60),
        ),
        pricing=_tok("0.0015", "0.004"),
        path="longdoc",
        region="us",
        pii="redacted",
    ),
    _svc(
        "nimbus",
        "nimbus-embed-v3",
        "Nimbus Embed v3",
        "embeddings",
        "Text embedding model producing 1536-dimensional vectors for semantic search, "
        "clustering and RAG. Accepts inputs up to 8K tokens.",
        tags=("embeddings", "rag", "openai-api", "semantic-search"),
        versions=(
            _v("1.0.0", "Initial release (768 dimensions).", 260),
            _v("2.0.0", "1536 dimensions, higher retrieval quality.", 140),
            _v("3.0.0", "Matryoshka embeddings: truncate to 256/512/1024 dimensions.", 50),
        ),
        pricing=_tok("0.0001", "0"),
        path="embed-v3",
        region="us",
    ),
    _svc(
        "nimbus",
        "nimbus-coder",
        "Nimbus Coder",
        "code",
        "Code generation and explanation model trained on 80+ programming languages, with "
        "fill-in-the-middle and a 32K-token context for whole-file edits.",
        tags=("code-completion", "openai-api", "streaming"),
        versions=(
            _v("1.0.0", "Initial release.", 210),
            _v("1.1.0", "Fill-in-the-middle support.", 100),
        ),
        pricing=_tok("0.001", "0.003"),
        path="coder",
        region="us",
    ),
    _svc(
        "nimbus",
        "nimbus-chat-next",
        "Nimbus Chat Next",
        "chat",
        "Next-generation reasoning model under private preview. 256K-token context and "
        "native image input; not yet open for subscriptions.",
        tags=("preview", "long-context", "multimodal"),
        versions=(
            _v("0.9.0", "Internal preview.", 20),
            _v("1.0.0-beta.1", "First external beta build.", 6),
        ),
        pricing=_tok("0.005", "0.015"),
        path="chat-next",
        region="us",
        status=ServiceStatus.DRAFT,
        legal=False,
    ),
    # ---------------------------------------------------------------- Lexica Labs (EU)
    _svc(
        "lexica",
        "lexica-embed-multilingual",
        "Lexica Embed Multilingual",
        "embeddings",
        "Multilingual embedding model covering 100+ languages in a shared vector space, so "
        "a German query finds English documents. 1024 dimensions, 8K-token inputs.",
        tags=("embeddings", "multilingual", "rag", "semantic-search"),
        versions=(
            _v("1.0.0", "Initial release.", 330),
            _v("1.1.0", "Added 20 low-resource languages.", 160),
            _v("2.0.0", "New training corpus; +6 points on cross-lingual retrieval.", 45),
        ),
        pricing=_tok("0.00012", "0", currency="EUR"),
        path="embed/multilingual",
        region="eu",
    ),
    _svc(
        "lexica",
        "lexica-embed-small",
        "Lexica Embed Small",
        "embeddings",
        "Lightweight 384-dimensional English embeddings for cost-sensitive vector search "
        "at scale. Batch up to 2,048 inputs per request.",
        tags=("embeddings", "low-latency", "semantic-search"),
        versions=(_v("1.0.0", "Initial release.", 190),),
        pricing=_tok("0.00002", "0"),
        path="embed/small",
        region="eu",
    ),
    _svc(
        "lexica",
        "lexica-embed-code",
        "Lexica Code Embeddings",
        "embeddings",
        "Embeddings specialised for source code and technical documentation, for code "
        "search and repository-aware RAG. Supports 30 programming languages.",
        tags=("embeddings", "code-search", "rag"),
        versions=(
            _v("1.0.0", "Initial release.", 150),
            _v("1.0.1", "Fixed tokenisation of long identifiers.", 75),
        ),
        pricing=_tok("0.00008", "0"),
        path="embed/code",
        region="eu",
    ),
    _svc(
        "lexica",
        "lexica-rerank-v2",
        "Lexica Rerank v2",
        "reranking",
        "Cross-encoder reranker that reorders up to 1,000 candidate passages per query by "
        "relevance. Multilingual; lifts RAG answer accuracy over pure vector search.",
        tags=("rag", "multilingual", "semantic-search"),
        versions=(
            _v("1.0.0", "Initial release.", 280),
            _v("2.0.0", "Multilingual model; 4K-token passages.", 95),
        ),
        pricing=_req("0.002"),
        path="rerank/v2",
        region="eu",
    ),
    _svc(
        "lexica",
        "lexica-rerank-lite",
        "Lexica Rerank Lite",
        "reranking",
        "Distilled English reranker for latency-critical search, scoring 100 passages in "
        "under 40 ms.",
        tags=("low-latency", "rag"),
        versions=(_v("1.0.0", "Initial release.", 110),),
        pricing=_req("0.0005"),
        path="rerank/lite",
        region="eu",
    ),
    _svc(
        "lexica",
        "lexica-summarize",
        "Lexica Grounded Summaries",
        "summarization",
        "Extractive-abstractive summariser that only states what the source supports, with "
        "sentence-level attributions. English, German, French, Dutch and Italian.",
        tags=("multilingual", "citations", "rag"),
        versions=(
            _v("1.0.0", "Initial release.", 170),
            _v("1.1.0", "Italian and Dutch support.", 55),
        ),
        pricing=_tok("0.0008", "0.0024", currency="EUR"),
        path="summarize",
        region="eu",
        pii="redacted",
    ),
    _svc(
        "lexica",
        "lexica-legal-chat",
        "Lexica Legal Assistant",
        "chat",
        "Chat assistant for legal research over EU and member-state case law, with a 64K "
        "context and citations to the underlying judgments.",
        tags=("rag", "citations", "long-context", "legal"),
        versions=(_v("1.0.0", "Initial release, submitted for review.", 4),),
        pricing=_tok("0.004", "0.012", currency="EUR"),
        path="legal-chat",
        region="eu",
        pii="processed",
        status=ServiceStatus.PENDING_APPROVAL,
    ),
    # ---------------------------------------------------------------- Polyglot Systems (EU)
    _svc(
        "polyglot",
        "polyglot-translate",
        "Polyglot Translate",
        "translation",
        "Neural machine translation between 120+ languages with custom glossaries and "
        "formality control. Preserves Markdown and HTML markup.",
        tags=("multilingual", "glossary", "streaming"),
        versions=(
            _v("1.0.0", "Initial release.", 350),
            _v("1.1.0", "Custom glossaries.", 200),
            _v("2.0.0", "New transformer model; formality control.", 80),
        ),
        pricing=_tok("0.0004", "0.0012"),
        path="translate",
        region="eu",
        pii="redacted",
    ),
    _svc(
        "polyglot",
        "polyglot-translate-realtime",
        "Polyglot Realtime",
        "translation",
        "Streaming translation for live chat and captions, emitting partial translations "
        "within 200 ms. 40 language pairs.",
        tags=("low-latency", "streaming", "multilingual"),
        versions=(
            _v("1.0.0", "Initial release.", 130),
            _v("1.1.0", "Twelve new language pairs.", 35),
        ),
        pricing=_tok("0.0006", "0.0018"),
        path="translate/realtime",
        region="eu",
    ),
    _svc(
        "polyglot",
        "polyglot-doc-translate",
        "Polyglot Document Translation",
        "translation",
        "Translates whole DOCX, PPTX and PDF files while keeping layout, fonts and tables "
        "intact. Priced per document up to 50 pages.",
        tags=("multilingual", "documents", "batch"),
        versions=(_v("1.0.0", "Initial release.", 160),),
        pricing=_req("0.09", currency="EUR"),
        path="translate/documents",
        region="eu",
        pii="processed",
    ),
    _svc(
        "polyglot",
        "polyglot-detect",
        "Polyglot Language ID",
        "translation",
        "Identifies the language and script of short texts across 180 languages, with "
        "confidence scores; a cheap first step before routing to translation.",
        tags=("multilingual", "language-detection", "low-latency"),
        versions=(_v("1.0.0", "Initial release.", 230),),
        pricing=_req("0.0001"),
        path="detect",
        region="eu",
    ),
    _svc(
        "polyglot",
        "polyglot-chat-multilingual",
        "Polyglot Chat",
        "chat",
        "Chat model trained with equal weight on 30 European and Asian languages, so it "
        "answers natively instead of translating. 32K-token context.",
        tags=("multilingual", "openai-api", "streaming", "gpt-compatible"),
        versions=(
            _v("1.0.0", "Initial release.", 140),
            _v("1.1.0", "Polish, Czech and Korean quality improvements.", 30),
        ),
        pricing=_tok("0.0012", "0.0036"),
        path="chat",
        region="eu",
    ),
    _svc(
        "polyglot",
        "polyglot-localize",
        "Polyglot Localize",
        "text-generation",
        "Adapts marketing copy, product descriptions and UI strings to a target market's "
        "tone, units and idioms rather than translating literally.",
        tags=("multilingual", "localization", "marketing"),
        versions=(_v("1.0.0", "Initial release.", 90),),
        pricing=_tok("0.001", "0.003"),
        path="localize",
        region="eu",
    ),
    # ---------------------------------------------------------------- Sonora Audio (US/APAC)
    _svc(
        "sonora",
        "sonora-transcribe",
        "Sonora Transcribe",
        "speech-to-text",
        "Batch transcription of audio files up to 4 hours in 60 languages, with punctuation, "
        "word timestamps and custom vocabulary. Priced per request (per audio minute).",
        tags=("multilingual", "timestamps", "batch"),
        versions=(
            _v("1.0.0", "Initial release.", 310),
            _v("1.1.0", "Custom vocabulary.", 170),
            _v("2.0.0", "New acoustic model; 18% lower word error rate.", 65),
        ),
        pricing=_req("0.006"),
        path="transcribe",
        region="us",
        pii="redacted",
    ),
    _svc(
        "sonora",
        "sonora-transcribe-live",
        "Sonora Live Captions",
        "speech-to-text",
        "Streaming speech recognition over WebSocket with interim results under 300 ms, "
        "for live captions and voice agents.",
        tags=("streaming", "low-latency", "websocket"),
        versions=(
            _v("1.0.0", "Initial release.", 150),
            _v("1.0.1", "Reduced end-of-utterance delay.", 50),
        ),
        pricing=_req("0.008"),
        path="transcribe/live",
        region="us",
        pii="redacted",
    ),
    _svc(
        "sonora",
        "sonora-diarize",
        "Sonora Meeting Diarization",
        "speech-to-text",
        "Transcribes multi-speaker recordings and labels who spoke when, up to 16 speakers. "
        "English, Japanese, Mandarin and Hindi.",
        tags=("diarization", "multilingual", "batch"),
        versions=(_v("1.0.0", "Initial release.", 120),),
        pricing=_req("0.012"),
        path="diarize",
        region="apac",
        pii="processed",
    ),
    _svc(
        "sonora",
        "sonora-voice",
        "Sonora Voice",
        "text-to-speech",
        "Natural text-to-speech with 120 stock voices in 35 languages, SSML control and "
        "24 kHz output as MP3, Opus or WAV.",
        tags=("multilingual", "ssml", "streaming"),
        versions=(
            _v("1.0.0", "Initial release.", 290),
            _v("1.1.0", "SSML prosody controls.", 130),
        ),
        pricing=_req("0.015"),
        path="tts",
        region="us",
    ),
    _svc(
        "sonora",
        "sonora-voice-lite",
        "Sonora Voice Lite",
        "text-to-speech",
        "Low-latency speech synthesis for IVR and voice bots, streaming the first audio "
        "chunk in under 100 ms. 20 voices in 12 languages.",
        tags=("low-latency", "streaming", "ivr"),
        versions=(_v("1.0.0", "Initial release.", 100),),
        pricing=_req("0.004"),
        path="tts/lite",
        region="apac",
    ),
    _svc(
        "sonora",
        "sonora-voice-clone",
        "Sonora Voice Studio",
        "text-to-speech",
        "Creates a custom synthetic voice from 60 seconds of consented reference audio and "
        "speaks any text with it in 12 languages.",
        tags=("voice-cloning", "multilingual"),
        versions=(
            _v("1.0.0", "Initial release.", 160),
            _v("1.1.0", "Cross-lingual cloning.", 70),
        ),
        pricing=_req("0.03"),
        path="tts/clone",
        region="us",
        pii="processed",
        status=ServiceStatus.SUSPENDED,
        status_reason=(
            "Suspended after an abuse report: voice-consent verification is under review "
            "by Trust & Safety."
        ),
    ),
    _svc(
        "sonora",
        "sonora-meeting-summary",
        "Sonora Meeting Notes",
        "summarization",
        "Turns meeting transcripts into decisions, action items with owners and a short "
        "recap. Works directly on Sonora transcripts or plain text.",
        tags=("meetings", "action-items", "long-context"),
        versions=(
            _v("1.0.0", "Initial release.", 115),
            _v("1.1.0", "Action-item owners and due dates.", 40),
        ),
        pricing=_tok("0.001", "0.002"),
        path="meeting-notes",
        region="us",
        pii="redacted",
    ),
    # ---------------------------------------------------------------- Vistara Vision (APAC)
    _svc(
        "vistara",
        "vistara-vision-ocr",
        "Vistara OCR",
        "vision",
        "Extracts text, tables and key-value pairs from scans, receipts and IDs in 50 "
        "scripts, returning bounding boxes and confidence per word.",
        tags=("ocr", "documents", "multilingual"),
        versions=(
            _v("1.0.0", "Initial release.", 270),
            _v("1.1.0", "Table extraction.", 120),
            _v("1.2.0", "Handwriting recognition for Latin scripts.", 45),
        ),
        pricing=_req("0.0015"),
        path="ocr",
        region="apac",
        pii="redacted",
    ),
    _svc(
        "vistara",
        "vistara-vision-detect",
        "Vistara Object Detection",
        "vision",
        "Detects and localises 1,200 object classes in images and video frames, with "
        "optional open-vocabulary prompts for custom classes.",
        tags=("object-detection", "open-vocabulary", "low-latency"),
        versions=(
            _v("1.0.0", "Initial release.", 220),
            _v("2.0.0", "Open-vocabulary detection.", 75),
        ),
        pricing=_req("0.001"),
        path="detect",
        region="apac",
    ),
    _svc(
        "vistara",
        "vistara-vision-caption",
        "Vistara Caption",
        "vision",
        "Generates alt text, detailed captions and answers to visual questions about an "
        "image, in English, Japanese, Korean and Bahasa Indonesia.",
        tags=("captioning", "accessibility", "multilingual", "vqa"),
        versions=(_v("1.0.0", "Initial release.", 125),),
        pricing=_req("0.002"),
        path="caption",
        region="apac",
    ),
    _svc(
        "vistara",
        "vistara-imagine",
        "Vistara Imagine",
        "image-generation",
        "Text-to-image diffusion model producing 1024x1024 images in about four seconds, "
        "with style presets and negative prompts. Outputs are licensed for commercial use.",
        tags=("diffusion", "text-to-image", "commercial-use"),
        versions=(
            _v("1.0.0", "Initial release.", 250),
            _v("1.5.0", "Style presets.", 110),
            _v("2.0.0", "New base model; better hands and text rendering.", 38),
        ),
        pricing=_req("0.02"),
        path="imagine",
        region="apac",
    ),
    _svc(
        "vistara",
        "vistara-imagine-xl",
        "Vistara Imagine XL",
        "image-generation",
        "High-resolution image generation up to 2048x2048 for print and advertising, with "
        "seed control for reproducible variations.",
        tags=("diffusion", "text-to-image", "high-resolution"),
        versions=(
            _v("1.0.0-beta.1", "Public beta.", 95),
            _v("1.0.0", "General availability.", 48),
        ),
        pricing=_req("0.06"),
        path="imagine/xl",
        region="apac",
    ),
    _svc(
        "vistara",
        "vistara-imagine-edit",
        "Vistara Inpaint",
        "image-generation",
        "Mask-based image editing: remove objects, extend backgrounds or replace regions "
        "from a text prompt while matching lighting and perspective.",
        tags=("inpainting", "image-editing", "diffusion"),
        versions=(_v("1.0.0", "Initial release.", 85),),
        pricing=_req("0.025"),
        path="imagine/edit",
        region="apac",
    ),
    # ---------------------------------------------------------------- Sentinel Trust (EU)
    _svc(
        "sentinel",
        "sentinel-moderate-text",
        "Sentinel Text Moderation",
        "moderation",
        "Classifies text for hate, harassment, sexual content, self-harm and violence in "
        "40 languages, with per-category scores and DSA-ready audit reasons.",
        tags=("multilingual", "low-latency", "safety"),
        versions=(
            _v("1.0.0", "Initial release.", 340),
            _v("1.1.0", "Self-harm category split into intent and instructions.", 180),
            _v("2.0.0", "New classifier; 40 languages.", 60),
        ),
        pricing=_req("0.0004"),
        path="moderate/text",
        region="eu",
    ),
    _svc(
        "sentinel",
        "sentinel-moderate-image",
        "Sentinel Image Moderation",
        "moderation",
        "Detects nudity, gore, weapons and extremist symbols in images and GIFs, returning "
        "calibrated scores and blur-region suggestions.",
        tags=("images", "safety", "low-latency"),
        versions=(
            _v("1.0.0", "Initial release.", 230),
            _v("1.1.0", "Animated GIF support.", 85),
        ),
        pricing=_req("0.0012"),
        path="moderate/image",
        region="eu",
    ),
    _svc(
        "sentinel",
        "sentinel-pii-guard",
        "Sentinel PII Guard",
        "moderation",
        "Finds and redacts personal data (names, emails, IBANs, phone and ID numbers) in "
        "text before it reaches an LLM. GDPR-aligned entity types for 24 EU languages.",
        tags=("pii", "gdpr", "redaction", "multilingual"),
        versions=(
            _v("1.0.0", "Initial release.", 200),
            _v("1.1.0", "IBAN and national ID detection.", 90),
        ),
        pricing=_req("0.0008"),
        path="pii",
        region="eu",
        pii="processed",
    ),
    _svc(
        "sentinel",
        "sentinel-prompt-shield",
        "Sentinel Prompt Shield",
        "moderation",
        "Detects prompt-injection and jailbreak attempts in user input and retrieved "
        "documents before they reach your model.",
        tags=("safety", "prompt-injection", "rag", "low-latency"),
        versions=(
            _v("0.9.0", "Early access.", 140),
            _v("1.0.0", "General availability.", 58),
        ),
        pricing=_req("0.0006"),
        path="prompt-shield",
        region="eu",
    ),
    # ---------------------------------------------------------------- Forgeline Labs (US)
    _svc(
        "forgeline",
        "forgeline-code-complete",
        "Forgeline Complete",
        "code",
        "Inline code completion for IDEs with fill-in-the-middle, 16K-token context and "
        "sub-200 ms latency. Python, TypeScript, Go, Rust, Java and 40 more languages.",
        tags=("code-completion", "low-latency", "streaming"),
        versions=(
            _v("1.0.0", "Initial release.", 260),
            _v("1.1.0", "Multi-line completions.", 140),
            _v("1.2.0", "Repository context from open files.", 52),
        ),
        pricing=_tok("0.0005", "0.0015"),
        path="complete",
        region="us",
    ),
    _svc(
        "forgeline",
        "forgeline-code-review",
        "Forgeline Review",
        "code",
        "Reviews pull-request diffs for bugs, security issues and style, posting line "
        "comments with suggested fixes. 100K-token context for large diffs.",
        tags=("code-review", "security", "long-context"),
        versions=(
            _v("1.0.0", "Initial release.", 175),
            _v("1.1.0", "Security findings mapped to CWE identifiers.", 62),
        ),
        pricing=_tok("0.002", "0.006"),
        path="review",
        region="us",
    ),
    _svc(
        "forgeline",
        "forgeline-code-chat",
        "Forgeline Repo Chat",
        "code",
        "Answers questions about a codebase using retrieval over the indexed repository, "
        "citing files and line ranges. OpenAI-compatible chat API.",
        tags=("rag", "openai-api", "code-search", "streaming"),
        versions=(_v("1.0.0", "Initial release.", 105),),
        pricing=_tok("0.0015", "0.0045"),
        path="repo-chat",
        region="us",
    ),
    _svc(
        "forgeline",
        "forgeline-sql",
        "Forgeline Text-to-SQL",
        "code",
        "Turns natural-language questions into SQL for PostgreSQL, MySQL, BigQuery and "
        "Snowflake, given the schema. Validates queries before returning them.",
        tags=("sql", "analytics", "openai-api"),
        versions=(
            _v("1.0.0", "Initial release.", 155),
            _v("1.1.0", "BigQuery and Snowflake dialects.", 66),
        ),
        pricing=_tok("0.0008", "0.0024"),
        path="sql",
        region="us",
    ),
    _svc(
        "forgeline",
        "forgeline-code-edge",
        "Forgeline Edge Complete",
        "code",
        "Code completion served from 30 edge locations worldwide for the lowest round-trip "
        "time; requests are routed to the nearest region.",
        tags=("code-completion", "low-latency", "edge"),
        versions=(_v("1.0.0", "Initial release.", 72),),
        pricing=_tok("0.0006", "0.0018"),
        path="edge-complete",
        region="global",
    ),
)


# --------------------------------------------------------------------------------------------
# Governance
# --------------------------------------------------------------------------------------------

POLICY_EU_RESIDENCY = "EU data residency"
POLICY_LEGAL_TERMS = "Published legal terms"
POLICY_PRICE_CEILING = "Price ceiling"

POLICIES: tuple[PolicySeed, ...] = (
    PolicySeed(
        name=POLICY_EU_RESIDENCY,
        description=(
            "Services must declare a data region the marketplace can contract for (EU, US or "
            "APAC) so EU customers can choose in-region processing."
        ),
        enforcement=Enforcement.ADVISORY,
        rules=({"kind": "allowed_regions", "params": {"regions": ["eu", "us", "apac"]}},),
    ),
    PolicySeed(
        name=POLICY_LEGAL_TERMS,
        description="A published service must link its privacy policy and terms of service.",
        enforcement=Enforcement.BLOCKING,
        rules=(
            {
                "kind": "required_fields",
                "params": {"fields": ["privacy_policy_url", "terms_url"]},
            },
        ),
    ),
    PolicySeed(
        name=POLICY_PRICE_CEILING,
        description="Flags prices above 0.10 per 1K tokens for a second look by the catalog team.",
        enforcement=Enforcement.ADVISORY,
        rules=({"kind": "max_price_per_1k", "params": {"max": "0.1"}},),
    ),
)

# Every ACTIVE service gets one compliance check; these are the ones that are not spotless.
COMPLIANCE_FINDINGS: tuple[ViolationSeed, ...] = (
    ViolationSeed(
        service_slug="forgeline-code-edge",
        score=Decimal("0.8000"),
        violations=(
            {
                "policy": POLICY_EU_RESIDENCY,
                "rule": "allowed_regions",
                "message": "data region 'global' is not one of the allowed regions: eu, us, apac",
                "severity": "ADVISORY",
            },
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Consumers, subscriptions
# --------------------------------------------------------------------------------------------

CONSUMERS: tuple[ConsumerSeed, ...] = (
    ConsumerSeed("consumer:acme", "Acme Corporation", "platform@acme.example"),
    ConsumerSeed("consumer:globex", "Globex Inc.", "ml-team@globex.example"),
    ConsumerSeed("consumer:initech", "Initech", "devops@initech.example"),
    ConsumerSeed("consumer:umbrella", "Umbrella Health", "data-office@umbrella.example"),
)

SUBSCRIPTIONS: tuple[SubscriptionSeed, ...] = (
    SubscriptionSeed("consumer:acme", "nimbus-chat-pro", PlanTier.PRO, 45),
    SubscriptionSeed("consumer:acme", "nimbus-embed-v3", PlanTier.PRO, 45),
    SubscriptionSeed("consumer:acme", "lexica-rerank-v2", PlanTier.BASIC, 40),
    SubscriptionSeed("consumer:acme", "sentinel-moderate-text", PlanTier.BASIC, 38),
    SubscriptionSeed("consumer:globex", "polyglot-translate", PlanTier.ENTERPRISE, 60),
    SubscriptionSeed("consumer:globex", "nimbus-chat-lite", PlanTier.BASIC, 35),
    SubscriptionSeed("consumer:initech", "forgeline-code-complete", PlanTier.PRO, 50),
    SubscriptionSeed("consumer:initech", "nimbus-chat-pro", PlanTier.FREE, 33),
    SubscriptionSeed("consumer:umbrella", "sonora-transcribe", PlanTier.BASIC, 42),
    SubscriptionSeed("consumer:umbrella", "lexica-embed-multilingual", PlanTier.FREE, 31),
)

# Rough shape of a request per category: (input tokens range, output tokens range).
USAGE_TOKEN_PROFILE: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "chat": ((200, 6_000), (50, 1_200)),
    "text-generation": ((200, 4_000), (100, 2_000)),
    "code": ((500, 8_000), (20, 400)),
    "embeddings": ((50, 2_000), (0, 0)),
    "translation": ((100, 3_000), (100, 3_300)),
    "summarization": ((2_000, 30_000), (150, 800)),
}
# Latency (ms) range per category, for successful calls.
USAGE_LATENCY_MS: dict[str, tuple[int, int]] = {
    "chat": (400, 9_000),
    "text-generation": (500, 12_000),
    "code": (120, 1_500),
    "embeddings": (30, 400),
    "translation": (150, 3_000),
    "summarization": (2_000, 20_000),
    "reranking": (40, 300),
    "moderation": (20, 150),
    "speech-to-text": (1_500, 25_000),
}
# Status codes of failed calls, by weight; about 8% of calls fail.
USAGE_ERROR_RATE = 0.08
USAGE_ERROR_CODES: tuple[tuple[int, int], ...] = ((429, 4), (400, 2), (401, 1), (500, 2), (503, 1))
