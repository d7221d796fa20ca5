"""Translation backends used by :class:`BackTranslationAugmenter`.

A backend translates a list of texts in one direction. Every backend exposes
the same small interface::

    translator.translate(texts, *, sample=False, temperature=1.0, top_k=None,
                         seeds=None) -> list of str

``seeds`` holds one integer per text, so that a sampled translation depends on
its own text and seed only, not on the other texts of the batch.

Three backends ship here:

- :class:`HuggingFaceTranslator`: transformers' MarianMT or FSMT models (the
  FSMT port of the WMT19 checkpoints used by the ALLSH paper), by hub name or
  local directory, loaded on first use;
- :class:`ApertiumTranslator`: Debian's rule-based Apertium, run as a
  subprocess with many sentences per call;
- :class:`CallableTranslator`: any callable ``list[str] -> list[str]``.

Heavy imports (torch, transformers) happen inside the methods that need them.
"""

import inspect
import os
import re
import shutil
import subprocess
import unicodedata

from ..utils import text_key

__all__ = [
    "ApertiumTranslator",
    "CallableTranslator",
    "HuggingFaceTranslator",
    "TranslationBackendError",
    "Translator",
    "as_translator",
]


class TranslationBackendError(RuntimeError):
    """A translation backend is missing, misconfigured or failed."""


class Translator:
    """Base class of translation backends (one direction).

    Subclasses implement :meth:`translate` and :meth:`cache_token`.
    """

    #: Whether the output is a function of the input text alone when
    #: translating without sampling.
    deterministic = True

    def translate(self, texts, *, sample=False, temperature=1.0, top_k=None,
                  seeds=None):
        """Translate each text of ``texts``.

        Parameters
        ----------
        texts : list of str
        sample : bool, default=False
            Sample the translation instead of decoding the most likely one.
            Backends that cannot sample ignore it.
        temperature : float, default=1.0
            Softmax temperature when sampling.
        top_k : int or None, default=None
            Sample among the ``top_k`` most likely tokens only.
        seeds : list of int or None, default=None
            One seed per text; a sampled translation depends only on its text
            and its seed.

        Returns
        -------
        translations : list of str
            One translation per text, in order.
        """
        raise NotImplementedError

    def cache_token(self):
        """Return a string identifying this backend's output, stable across runs."""
        raise NotImplementedError

    def is_deterministic(self, sample):
        """Whether ``translate(texts, sample=sample)`` ignores the seeds."""
        return self.deterministic or not sample

    def __call__(self, texts):
        return self.translate(list(texts))

    def __repr__(self):
        return f"{type(self).__name__}({self.cache_token()!r})"


def _check_translations(translations, texts, source):
    if isinstance(translations, str) or not hasattr(translations, "__len__"):
        raise TypeError(
            f"The translator {source} must return a list of strings. Got "
            f"{type(translations).__name__} instead."
        )
    translations = list(translations)
    if len(translations) != len(texts):
        raise ValueError(
            f"The translator {source} must return one translation per input "
            f"text. Got {len(translations)} for {len(texts)} texts instead."
        )
    for position, value in enumerate(translations):
        if not isinstance(value, str):
            raise TypeError(
                f"The translator {source} must return strings. Got "
                f"{type(value).__name__} at index {position} instead."
            )
    return translations


# Callables ------------------------------------------------------------------


def _value_token(value):
    # Plain values captured by a closure (a suffix, a temperature) count;
    # mutable state (a call counter) must not change the token as it runs.
    if isinstance(value, str | int | float | bool | type(None)):
        return repr(value)
    if isinstance(value, tuple):
        return repr(tuple(_value_token(v) for v in value))
    if isinstance(value, frozenset):
        return repr(sorted(_value_token(v) for v in value))
    target = value if hasattr(value, "__qualname__") else type(value)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


def _callable_token(func):
    """A name for ``func`` that is stable across processes.

    Named functions and classes are identified by module and qualified name.
    Lambdas and nested functions share such names, so their code, constants
    and plain closure values are hashed in as well.
    """
    token = getattr(func, "cache_token", None)
    if callable(token):
        return str(token())
    if isinstance(token, str):
        return token
    target = func if hasattr(func, "__qualname__") else type(func)
    name = f"{getattr(target, '__module__', '?')}.{target.__qualname__}"
    code = getattr(func, "__code__", None)
    if code is not None and "<" in target.__qualname__:
        closure = tuple(
            _value_token(cell.cell_contents) for cell in (func.__closure__ or ())
        )
        digest = text_key(
            repr((code.co_code, code.co_consts, code.co_names, closure)), length=16
        )
        name = f"{name}#{digest}"
    return name


class CallableTranslator(Translator):
    """Wrap a callable ``list[str] -> list[str]`` as a translator.

    A callable that accepts ``seeds`` (or ``**kwargs``) is called with the
    sampling arguments too, and is then treated as random when sampling;
    otherwise it is called with the texts only and treated as deterministic.

    Parameters
    ----------
    func : callable
        ``func(texts)`` returns one translation per text.
    cache_token : str or None, default=None
        What identifies the callable's output in caches. By default its
        module and qualified name; give a new token when its behaviour changes
        (a model update, say) so that cached translations are not reused.

    Examples
    --------
    >>> shout = CallableTranslator(lambda texts: [t.upper() for t in texts])
    >>> shout.translate(["a film"])
    ['A FILM']
    """

    def __init__(self, func, cache_token=None):
        if not callable(func):
            raise TypeError(
                f"A callable translator must be callable (list[str] -> list[str]). "
                f"Got {type(func).__name__} instead."
            )
        self.func = func
        self._token = cache_token
        try:
            parameters = inspect.signature(func).parameters.values()
        except (TypeError, ValueError):
            parameters = []
        self._takes_options = any(
            p.kind is inspect.Parameter.VAR_KEYWORD or p.name == "seeds"
            for p in parameters
        )
        self.deterministic = not self._takes_options

    def translate(self, texts, *, sample=False, temperature=1.0, top_k=None,
                  seeds=None):
        texts = list(texts)
        if self._takes_options:
            result = self.func(
                texts, sample=sample, temperature=temperature, top_k=top_k,
                seeds=seeds,
            )
        else:
            result = self.func(texts)
        return _check_translations(result, texts, repr(self.cache_token()))

    def cache_token(self):
        if self._token is not None:
            return f"callable:{self._token}"
        return f"callable:{_callable_token(self.func)}"


def as_translator(value):
    """Return ``value`` as a :class:`Translator` (wrapping plain callables)."""
    if isinstance(value, Translator):
        return value
    return CallableTranslator(value)


# Apertium -------------------------------------------------------------------

# Characters that would split or merge lines in Apertium's text format.
_LINE_BREAKING = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"\s+")
# Apertium marks words it could not generate (#) or transfer (@).
_MARKS = re.compile(r"(?<!\S)[#@](?=\w)")
# Paragraph separator: Apertium keeps blank lines, and sentence context
# (capitalisation, for instance) does not cross them.
_SEPARATOR = "\n\n"


def _clean_for_apertium(text):
    text = _LINE_BREAKING.sub(" ", text)
    text = "".join(
        " " if unicodedata.category(char) == "Cc" else char for char in text
    )
    return _SPACES.sub(" ", text).strip()


def _apertium_package(pair):
    languages = pair.split("-")
    if len(languages) == 2 and set(languages) == {"eng", "spa"}:
        return "apertium-eng-spa"
    return "apertium-" + "-".join(languages[:2])


class ApertiumTranslator(Translator):
    """Rule-based translation with Debian's Apertium (offline, deterministic).

    Texts are sent many at a time to ``apertium -u PAIR``, separated by blank
    lines so that one text's translation does not depend on its neighbours.
    Line breaks and control characters inside a text become spaces. If the
    output ever has a different number of blocks than the input, the batch
    is split in halves and retried, down to single texts.

    Parameters
    ----------
    pair : str, default="eng-spa"
        The Apertium translation direction (``apertium -l`` lists them).
    executable : str, default="apertium"
        The ``apertium`` program, by name on ``PATH`` or by path.
    max_texts : int, default=2000
        Most texts sent in one subprocess call.
    timeout : float or None, default=600
        Seconds allowed per subprocess call.

    Examples
    --------
    >>> translator = ApertiumTranslator("eng-spa")  # doctest: +SKIP
    >>> translator.translate(["the film is good"])  # doctest: +SKIP
    ['La película es bien']
    """

    deterministic = True

    def __init__(self, pair="eng-spa", executable="apertium", max_texts=2000,
                 timeout=600):
        self.pair = pair
        self.executable = executable
        self.max_texts = max_texts
        self.timeout = timeout
        self._checked = False

    def check_available(self):
        """Raise :class:`TranslationBackendError` unless Apertium can run ``pair``."""
        if self._checked:
            return
        package = _apertium_package(self.pair)
        path = shutil.which(self.executable)
        if path is None:
            raise TranslationBackendError(
                f"The 'apertium' backend needs the '{self.executable}' program, "
                f"which was not found on PATH. Install Debian's Apertium with "
                f"`apt-get install {package}` (or pass another backend)."
            )
        try:
            listing = subprocess.run(
                [path, "-l"], capture_output=True, text=True, timeout=60,
                encoding="utf-8", errors="replace",
            ).stdout
        except (OSError, subprocess.SubprocessError) as error:
            raise TranslationBackendError(
                f"Could not run '{path} -l' to list Apertium's language pairs: "
                f"{error}. Reinstall it with `apt-get install {package}`."
            ) from error
        available = listing.split()
        if self.pair not in available:
            raise TranslationBackendError(
                f"Apertium has no '{self.pair}' translation direction installed "
                f"(available: {available or 'none'}). Install it with "
                f"`apt-get install {package}`."
            )
        self._executable_path = path
        self._checked = True

    def translate(self, texts, *, sample=False, temperature=1.0, top_k=None,
                  seeds=None):
        self.check_available()
        texts = list(texts)
        cleaned = [_clean_for_apertium(text) for text in texts]
        outputs = list(texts)
        todo = [i for i, text in enumerate(cleaned) if text]
        step = max(int(self.max_texts), 1)
        for start in range(0, len(todo), step):
            chunk = todo[start:start + step]
            translated = self._translate_blocks([cleaned[i] for i in chunk])
            for i, value in zip(chunk, translated, strict=True):
                outputs[i] = _MARKS.sub("", value) if not _MARKS.search(
                    cleaned[i]) else value
        return outputs

    def _run(self, payload):
        try:
            result = subprocess.run(
                [self._executable_path, "-u", self.pair],
                input=payload, capture_output=True, text=True,
                encoding="utf-8", errors="replace", timeout=self.timeout,
            )
        except subprocess.TimeoutExpired as error:
            raise TranslationBackendError(
                f"Apertium ('{self.pair}') did not finish within {self.timeout} s; "
                "lower 'max_texts' or raise 'timeout'."
            ) from error
        if result.returncode != 0:
            raise TranslationBackendError(
                f"Apertium ('{self.pair}') failed with exit code "
                f"{result.returncode}: {result.stderr.strip()[:500]}"
            )
        return result.stdout

    def _translate_blocks(self, texts):
        output = self._run(_SEPARATOR.join(texts) + "\n")
        blocks = [block.strip() for block in output.strip("\n").split(_SEPARATOR)]
        if len(blocks) == len(texts):
            return blocks
        if len(texts) == 1:
            return [_SPACES.sub(" ", output).strip()]
        middle = len(texts) // 2
        return self._translate_blocks(texts[:middle]) + self._translate_blocks(
            texts[middle:]
        )

    def cache_token(self):
        return f"apertium:{self.pair}"


# Hugging Face transformers ---------------------------------------------------


def _import_transformers():
    try:
        import torch
        import transformers
    except ImportError as error:
        raise ImportError(
            "The 'marian' and 'fsmt' back-translation backends need torch and "
            "transformers: pip install 'allsh-sklearn[transformers]' (install "
            "the CPU build of torch first)."
        ) from error
    return torch, transformers


def _make_sampler(transformers, torch, seeds, temperature, top_k):
    """A logits processor that turns greedy decoding into seeded sampling.

    Adding Gumbel noise to the (temperature-scaled, top-k filtered) logits and
    taking the argmax draws a token from their softmax. The noise of row ``i``
    at step ``t`` comes from its own generator seeded by ``(seeds[i], t)``, so
    each text's sample is independent of the rest of the batch.
    """
    from ._base import stable_seed

    class SeededGumbelSampler(transformers.LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores = scores.float() / temperature
            if top_k is not None and 0 < top_k < scores.shape[-1]:
                threshold = torch.topk(scores, top_k, dim=-1).values[..., -1:]
                scores = scores.masked_fill(scores < threshold, float("-inf"))
            step = input_ids.shape[-1]
            noise = torch.empty_like(scores, device="cpu")
            for row in range(scores.shape[0]):
                generator = torch.Generator().manual_seed(
                    stable_seed(seeds[row], step) % (2**63 - 1)
                )
                uniform = torch.rand(
                    scores.shape[-1], generator=generator
                ).clamp_(1e-12, 1 - 1e-7)
                noise[row] = -torch.log(-torch.log(uniform))
            return scores + noise.to(scores.device)

    return SeededGumbelSampler()


class HuggingFaceTranslator(Translator):
    """Neural translation with a transformers MarianMT or FSMT model.

    The model and tokenizer are loaded on the first call to
    :meth:`translate`, from a hub name (which needs internet the first time)
    or a local directory saved with ``save_pretrained``.

    Parameters
    ----------
    model : str
        Hub name (``"Helsinki-NLP/opus-mt-en-de"``, ``"facebook/wmt19-en-de"``)
        or path of a local directory.
    kind : {"marian", "fsmt"}, default="marian"
        Which transformers classes load it: ``MarianMTModel`` with
        ``AutoTokenizer``, or ``FSMTForConditionalGeneration`` with
        ``FSMTTokenizer``.
    num_beams : int, default=4
        Beam width when not sampling.
    max_length : int, default=256
        Longest input and output, in tokens.
    device : str, default="cpu"
        Torch device.

    Notes
    -----
    Sampling runs greedy decoding over Gumbel-perturbed logits (the
    Gumbel-max trick), with one generator per text: a text's sample does not
    depend on the other texts in its batch, up to the floating-point effect
    of padding.
    """

    deterministic = False

    def __init__(self, model, kind="marian", num_beams=4, max_length=256,
                 device="cpu"):
        if kind not in ("marian", "fsmt"):
            raise ValueError(
                f"The 'kind' parameter of HuggingFaceTranslator must be 'marian' "
                f"or 'fsmt'. Got {kind!r} instead."
            )
        self.model = model
        self.kind = kind
        self.num_beams = num_beams
        self.max_length = max_length
        self.device = device
        self._loaded = None

    def _load(self):
        if self._loaded is not None:
            return self._loaded
        torch, transformers = _import_transformers()
        if self.kind == "fsmt":
            tokenizer_class = transformers.FSMTTokenizer
            model_class = transformers.FSMTForConditionalGeneration
        else:
            tokenizer_class = transformers.AutoTokenizer
            model_class = transformers.MarianMTModel
        try:
            # The local cache first: no network round trip when it is there.
            network = model_class.from_pretrained(self.model, local_files_only=True)
            tokenizer = tokenizer_class.from_pretrained(
                self.model, local_files_only=True
            )
        except (OSError, ValueError):
            try:
                network = model_class.from_pretrained(self.model)
                tokenizer = tokenizer_class.from_pretrained(self.model)
            except (OSError, ValueError) as error:
                raise TranslationBackendError(
                    f"Could not load the {self.kind} translation model "
                    f"{self.model!r}: {error} Hub models are downloaded on first "
                    "use and need internet; offline, save the model with "
                    "save_pretrained on a machine that has internet and pass its "
                    "local directory (set HF_HUB_OFFLINE=1 to fail fast instead "
                    "of retrying the download)."
                ) from error
        network.to(self.device).eval()
        self._loaded = (torch, transformers, tokenizer, network)
        return self._loaded

    def translate(self, texts, *, sample=False, temperature=1.0, top_k=None,
                  seeds=None):
        texts = list(texts)
        if not texts:
            return []
        torch, transformers, tokenizer, network = self._load()
        encoded = tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True,
            max_length=self.max_length,
        ).to(self.device)
        options = {"max_length": self.max_length, "do_sample": False}
        if sample:
            if seeds is None:
                seeds = [0] * len(texts)
            options["num_beams"] = 1
            options["logits_processor"] = transformers.LogitsProcessorList(
                [_make_sampler(transformers, torch, list(seeds), temperature, top_k)]
            )
        else:
            options["num_beams"] = self.num_beams
        with torch.inference_mode():
            generated = network.generate(**encoded, **options)
        decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
        return [text.strip() for text in decoded]

    def cache_token(self):
        token = f"{self.kind}:{self.model}"
        config = os.path.join(str(self.model), "config.json")
        if os.path.isfile(config):
            with open(config, "rb") as handle:
                token += ":" + text_key(handle.read(), length=12)
        return token

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_loaded"] = None
        return state
