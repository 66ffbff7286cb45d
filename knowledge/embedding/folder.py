"""What a sentence-transformers model folder declares, read without loading the model: its
prompts, token limit and pooling, and its fast tokenizer (Hugging Face ``tokenizers``, whose
character offsets map sentences to tokens)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

#: Prompts of the E5 family, used when a model does not declare its own.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class ModelFolder:
    """A sentence-transformers folder (or a hub name, torch only) as the encoder needs it.

    Attributes:
        name: the path or hub name given.
        path: the folder, or None for a hub name.
        prompts: ``{"query": …, "passage": …}`` put before texts of each kind.
        max_seq_length: the model's own token limit.
    """

    name: str
    path: Path | None
    prompts: dict[str, str] = field(default_factory=dict)
    max_seq_length: int = 512

    @classmethod
    def read(cls, model: str) -> ModelFolder:
        """Describe ``model``; a folder must be a mean-pooling, normalising model.

        Raises:
            FileNotFoundError: a folder that is not a sentence-transformers model.
            ValueError: a folder whose pooling is not the mean of the tokens.
        """
        path = Path(model).expanduser()
        if not path.exists():
            prompts = dict(E5_PROMPTS) if "e5" in model.lower() else {}
            return cls(model, None, prompts)
        if not (path / "modules.json").exists():
            raise FileNotFoundError(
                f"{path} is not a sentence-transformers model folder (no modules.json); "
                "build it with 'kb build-model'")
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        pooling = next((m for m in modules if m.get("type", "").endswith("Pooling")), None)
        if pooling is not None:
            config = json.loads((path / pooling["path"] / "config.json").read_text())
            if not config.get("pooling_mode_mean_tokens") or any(
                    config.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                            "pooling_mode_mean_sqrt_len_tokens")):
                raise ValueError(f"{path}: only mean pooling is supported, got {config}")
        if kinds[:1] != ["Transformer"] or "Normalize" not in kinds:
            logger.warning("%s: modules %s; encoding as transformer + mean pooling + "
                           "normalisation", path, kinds)
        prompts: dict[str, str] = {}
        st_config = path / "config_sentence_transformers.json"
        if st_config.exists():
            prompts = {k: v for k, v in
                       (json.loads(st_config.read_text()).get("prompts") or {}).items() if v}
        if not prompts.get("query") and "e5" in path.name.lower():
            prompts = {**E5_PROMPTS, **prompts}
        limit = 512
        bert_config = path / "sentence_bert_config.json"
        if bert_config.exists():
            limit = int(json.loads(bert_config.read_text()).get("max_seq_length") or limit)
        return cls(model, path, prompts, limit)

    def tokenizer(self):
        """The fast tokenizer (``tokenizers.Tokenizer``), with no truncation or padding set."""
        from tokenizers import Tokenizer

        if self.path is not None and (self.path / "tokenizer.json").exists():
            tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        else:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.name).backend_tokenizer
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def pad_id(self, tokenizer) -> int:
        """The padding token's id (XLM-R derives position ids from it: it must be right)."""
        for token in ("<pad>", "[PAD]"):
            found = tokenizer.token_to_id(token)
            if found is not None:
                return int(found)
        if self.path is not None and (self.path / "config.json").exists():
            return int(json.loads((self.path / "config.json").read_text()).get("pad_token_id")
                       or 0)
        return 0
