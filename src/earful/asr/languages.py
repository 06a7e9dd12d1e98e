"""The one language table: the languages Whisper knows, by code and English name.

Every place that takes or reports a language uses this table: option validation (an
unknown code is refused before any audio is decoded or a model loaded), the OpenAI-shaped
``verbose_json`` (which names the language in words), and the CLI's help.
"""

from __future__ import annotations

from earful.errors import InvalidOptionError

#: Whisper's languages (the order and codes of openai/whisper's tokenizer).
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian",
    "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian",
    "sw": "swahili", "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala",
    "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans",
    "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi",
    "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan",
    "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese",
    "yue": "cantonese",
}
_BY_NAME = {name: code for code, name in LANGUAGES.items()}


def language_code(value: str | None) -> str | None:
    """The code for a language given as a code or an English name, or ``None`` for none.

    ``"en"``, ``"EN"`` and ``"English"`` all give ``"en"``; an empty string means "detect".

    Raises:
        InvalidOptionError: The language is not one Whisper knows.
    """
    if value is None or not value.strip():
        return None
    key = value.strip().lower()
    if key in LANGUAGES:
        return key
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise InvalidOptionError(f"unknown language '{value[:40]}': give a code such as 'en', "
                             "'fr' or 'de' (GET /languages lists them)")


def language_name(code: str | None) -> str | None:
    """The English name of a language code (the code itself when unknown)."""
    if code is None:
        return None
    return LANGUAGES.get(code, code)
