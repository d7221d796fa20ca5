"""Prompt templates for in-context classification with a causal language model.

A prompt is built as in Zhao et al. (2021), "Calibrate before use": an
optional instruction header, then for each demonstration ::

    q_prefix + input + "\\n" + a_prefix + label_word + "\\n\\n"

and finally the query ::

    q_prefix + input + "\\n" + a_prefix.rstrip(" ")

so that the prompt ends on the answer prefix without its trailing space. The
probability of a class is that of ``" " + label_word`` as the next token, so
every label word must be a single token of the model's tokenizer once a space
is put before it.

Built-in templates follow Table 12 of the ALLSH paper (``"sst2"``, ``"trec"``,
``"rte"``); :class:`PromptTemplate` describes any other.
"""

import dataclasses
from collections.abc import Mapping

from ..utils import describe, is_pair

__all__ = ["TEMPLATES", "PromptTemplate", "get_template"]


@dataclasses.dataclass(frozen=True)
class PromptTemplate:
    """How inputs, demonstrations and label words are laid out in a prompt.

    Parameters
    ----------
    q_prefix : str
        Put before each input, e.g. ``"Review: "``. May be empty.
    a_prefix : str
        Put before each answer, e.g. ``"Sentiment: "``. Must end with a
        space: the demonstrations read ``a_prefix + label_word`` and the
        query ends on ``a_prefix`` without that space, the model then
        predicting ``" " + label_word``.
    label_words : sequence of str or mapping
        One word per class. A sequence is matched with the classes in sorted
        order (the order of ``classes_``); a mapping maps each class label
        to its word. Each ``" " + word`` must be a single token.
    instruction : str, default=""
        A header put once at the start of the prompt, e.g. a task
        description ending with ``"\\n\\n"``.
    pair_format : str, default="{text}\\n{text_pair}"
        How a ``(text, text_pair)`` input is written, with the fields
        ``{text}`` and ``{text_pair}``.
    name : str, default="custom"
        A name shown in reports.

    Examples
    --------
    >>> template = PromptTemplate("Review: ", "Sentiment: ", ["Negative", "Positive"])
    >>> print(template.format_prompt([("a fine film", "Positive")], "a dull one"))
    Review: a fine film
    Sentiment: Positive
    <BLANKLINE>
    Review: a dull one
    Sentiment:
    """

    q_prefix: str
    a_prefix: str
    label_words: object
    instruction: str = ""
    pair_format: str = "{text}\n{text_pair}"
    name: str = "custom"

    def __post_init__(self):
        for field in ("q_prefix", "a_prefix", "instruction", "pair_format", "name"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise TypeError(
                    f"The '{field}' field of PromptTemplate must be a str. Got "
                    f"{type(value).__name__} {describe(value)} instead."
                )
        if not self.a_prefix.endswith(" ") or not self.a_prefix.strip():
            raise ValueError(
                "The 'a_prefix' field of PromptTemplate must be non-blank and "
                "end with a space (e.g. 'Sentiment: '): the label word follows "
                f"it as the token ' ' + word. Got {self.a_prefix!r} instead."
            )
        words = (
            list(self.label_words.values())
            if isinstance(self.label_words, Mapping)
            else self.label_words
        )
        if isinstance(words, str) or not _is_sequence(words) or len(words) < 2:
            raise TypeError(
                "The 'label_words' field of PromptTemplate must be a sequence "
                "of at least two words (in sorted class order) or a mapping "
                f"{{class: word}}. Got {describe(self.label_words)} instead."
            )
        for word in words:
            if not isinstance(word, str) or word != word.strip() or not word:
                raise ValueError(
                    "The 'label_words' field of PromptTemplate must hold "
                    "non-empty words without surrounding spaces (the space is "
                    f"added by the template). Got {word!r} instead."
                )
        if len(set(words)) != len(words):
            raise ValueError(
                "The 'label_words' field of PromptTemplate must hold distinct "
                f"words. Got {list(words)!r} instead."
            )
        try:
            self.pair_format.format(text="", text_pair="")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                "The 'pair_format' field of PromptTemplate must be a format "
                "string using only the fields {text} and {text_pair}. Got "
                f"{self.pair_format!r} instead ({error!r})."
            ) from None

    def words_for(self, classes):
        """Return the label word of each class, in the order of ``classes``.

        Parameters
        ----------
        classes : sequence
            The sorted class labels (``classes_`` of a fitted selector).

        Returns
        -------
        words : list of str
        """
        classes = list(classes)
        if isinstance(self.label_words, Mapping):
            missing = [c for c in classes if c not in self.label_words]
            if missing:
                raise ValueError(
                    f"The label words of template {self.name!r} map "
                    f"{sorted(self.label_words, key=str)!r}, but the training "
                    f"labels also hold {missing!r}. Add a word for each class."
                )
            return [self.label_words[c] for c in classes]
        words = list(self.label_words)
        if len(words) != len(classes):
            raise ValueError(
                f"Template {self.name!r} has {len(words)} label words "
                f"{words!r}, but the training labels hold {len(classes)} "
                f"classes {classes!r}. Pass label words as a mapping "
                "{class: word} when some classes are absent from the "
                "training data."
            )
        return words

    def format_input(self, item):
        """Return the text of one input: a string, or a formatted pair."""
        if is_pair(item):
            return self.pair_format.format(text=item[0], text_pair=item[1])
        return item

    def format_prompt(self, demonstrations, query):
        """Return the full prompt for ``query`` after ``demonstrations``.

        Parameters
        ----------
        demonstrations : sequence of (input, label_word)
            The in-context examples, in order. An input is a string or a
            ``(text, text_pair)`` tuple.
        query : str or (str, str)
            The input to classify.

        Returns
        -------
        prompt : str
            Ends with ``a_prefix`` without its trailing space.
        """
        parts = [self.instruction]
        for item, word in demonstrations:
            parts.append(
                f"{self.q_prefix}{self.format_input(item)}\n{self.a_prefix}{word}\n\n"
            )
        parts.append(
            f"{self.q_prefix}{self.format_input(query)}\n{self.a_prefix.rstrip(' ')}"
        )
        return "".join(parts)


def _is_sequence(value):
    try:
        len(value)
        iter(value)
    except TypeError:
        return False
    return True


TEMPLATES = {
    # Table 12: "Review: ...\nSentiment: Positive". Labels 0=negative, 1=positive.
    "sst2": PromptTemplate(
        q_prefix="Review: ",
        a_prefix="Sentiment: ",
        label_words=("Negative", "Positive"),
        name="sst2",
    ),
    # Table 12: "Question: ...\nAnswer Type: Location", with the task
    # description of Appendix A.3 as the header (as Zhao et al. do). Label ids
    # are alphabetical: ABBR, DESC, ENTY, HUM, LOC, NUM. "Abbreviation" is
    # several tokens in GPT-2 and SmolLM2 tokenizers, so ABBR answers "Ab".
    "trec": PromptTemplate(
        q_prefix="Question: ",
        a_prefix="Answer Type: ",
        label_words=("Ab", "Description", "Entity", "Person", "Location", "Number"),
        instruction=(
            "Classify the questions based on whether their answer type is a "
            "Number, Location, Person, Description, Entity, or Abbreviation.\n\n"
        ),
        name="trec",
    ),
    # Table 12: "premise\nQuestion: hypothesis True or False?\nAnswer: True".
    # Labels 0=entailment (True), 1=not_entailment (False).
    "rte": PromptTemplate(
        q_prefix="",
        a_prefix="Answer: ",
        label_words=("True", "False"),
        pair_format="{text}\nQuestion: {text_pair} True or False?",
        name="rte",
    ),
}


def get_template(template):
    """Return a :class:`PromptTemplate` from a name or a template.

    Parameters
    ----------
    template : {"sst2", "trec", "rte"} or PromptTemplate

    Returns
    -------
    template : PromptTemplate

    Examples
    --------
    >>> get_template("rte").label_words
    ('True', 'False')
    """
    if isinstance(template, PromptTemplate):
        return template
    if isinstance(template, str) and template in TEMPLATES:
        return TEMPLATES[template]
    raise ValueError(
        f"The 'template' parameter must be one of {sorted(TEMPLATES)} or a "
        f"PromptTemplate. Got {describe(template)} instead."
    )
