"""Search of Japanese and Korean text: the trigram index the product uses, or a word index built by a morphological
analyser (issue 14: "measure both"). Run by hand (the suite runs it at a tiny size, untimed, without the analysers):

    .venv/bin/python benchmarks/cjk_tokenizers.py [--records 10000] [--repeat 5] [--japanese sudachi-C,sudachi-A,fugashi]

Self-contained: Python's sqlite3 module only (no Django), so it runs in the project's venv (trigram side only) and
in a scratch venv that holds the analysers (``pip install sudachipy sudachidict_core fugashi unidic-lite
kiwipiepy``). A missing analyser is named on a line of its own and its variant is skipped; without kiwipiepy no
analyser's index is built at all (Korean would have no tokenizer) and only the trigram side (and the bigram index,
which needs no package) is measured. Exits 0 either way.

Corpus: N records of the liaison office (cyber defence, maritime security and ship-to-ship transfers, disaster
relief, space, exercises), a quarter each in Japanese, Korean, English and French, two or three sentences each, with
particles and inflection (防衛省はサイバー防衛の演習を実施した。/ 국방부는 사이버 방어를 강화했다.); one record in
seven carries one more sentence in another language. The generator knows which words each sentence holds, so every
record carries its set of words (dictionary forms), and that is the ground truth.

Ground truth: a record is relevant to a query word when it holds that word — on its own, inflected (방어를, 방어에,
行った for 行う, exercises for exercise) or as a component of a compound (サイバー防衛 and 防衛省 for 防衛, 합동훈련 for
훈련, 보고서 for 보고, cyberdéfense for défense); it is NOT relevant when the query's characters only occur inside
another word (京都 in 東京都, 보고 in 살펴보고/지켜보고, 국방 in 한국방송공사, port in report/support/transport, mer in
commerce/mercredi). A query of several words wants all of them (as the product's search does).

The two indexes, each in an SQLite file of its own under --data-dir, filled in one transaction:

- trigram, as the product (kizuna.core.textsearch.TrigramIndex): ``fts5(body, tokenize='trigram case_sensitive 1',
  detail=none, columnsize=0)`` over the lower-cased text; a query word of three letters or digits in a row is
  ``body GLOB '*word*'``, a shorter one ``instr`` on the stored text of every row (the product's row-by-row probe,
  here without the label rule to narrow it: its worst case);
- word: each sentence tokenized by script — kana/kanji by the Japanese analyser of the variant (sudachipy mode C,
  sudachipy mode A, or fugashi with unidic-lite), Hangul by kiwipiepy, the rest split on non-letters — keeping the
  dictionary form of content words (particles, auxiliaries, endings and punctuation dropped), lower-cased and joined
  by spaces into ``fts5(body, tokenize='unicode61 remove_diacritics 0', detail=full, columnsize=0)`` (detail=full:
  FTS5 answers phrase queries only with positions). A query word is tokenized the same way (its time included in the
  query's) and searched as the phrase of its tokens' dictionary forms OR the phrase of its forms as written (alone,
  瀬取り is analysed as 瀬 + the verb 取る; in a sentence as 瀬 + the noun 取り); a Latin-script word's last token as a
  prefix (``"exercise"*``, so a plural is found, as a stemmer would; mer* then also finds mercredi).
- bigram, a third, with no analyser: the same word table, Japanese and Korean runs written as their overlapping
  two-character pieces (``cjk_bigrams``), so that a two-character word is looked up in the index rather than probed
  row by row; it finds what the trigram index finds. Its Japanese and Korean part alone (``cjk-bigram``,
  contentless, detail=none: what would be kept beside the trigram index for two-character words) is built too, for its size.

Figures, each index beside the trigram in the same run: build time per 1,000 records (tokenizing included) and the
file's size; p50/p95 of every query of a language (all matching keys read, --repeat times each); recall and precision
per query, per language and for the two-character words (防衛, 방어, 훈련, ...); the analysers' load time and size on
disk.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from taxii_serve import machine  # stdlib only: this benchmark runs in a venv without Django too


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=5, help="times each query is timed")
    p.add_argument("--japanese", default="sudachi-C,sudachi-A,fugashi",
                   help="Japanese analysers, one word index each (sudachi-C, sudachi-A, fugashi)")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-cjk")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=14)
    return p.parse_args()


# --- the corpus -----------------------------------------------------------------------------------------------------

Piece = tuple[str, frozenset[str]]  # a filler's text and the words it holds (ground truth)


def w(surface: str, *words: str) -> Piece:
    """A filler: its text and the words it holds (itself when none are given)."""
    return surface, frozenset(words or (surface,))


@dataclass(frozen=True)
class Template:
    text: str  # {slot} or {slot|이/가}: a Korean particle chosen by the final consonant of the filler
    words: frozenset[str] = frozenset()


def t(text: str, *words: str) -> Template:
    return Template(text, frozenset(words))


SLOTS: dict[str, dict[str, list[Piece]]] = {
    "ja": {
        "org": [w("防衛省", "防衛省", "防衛"), w("外務省"), w("海上保安庁", "海上保安庁", "海上"), w("自衛隊"),
                w("統合幕僚監部"), w("NATO東京連絡事務所", "nato", "連絡事務所")],
        "topic": [w("サイバー防衛", "サイバー防衛", "サイバー", "防衛"), w("海洋安全保障", "海洋", "安全保障"),
                  w("ミサイル防衛", "ミサイル", "防衛"), w("宇宙状況把握", "宇宙", "状況", "把握"),
                  w("偽情報", "偽情報", "情報"), w("災害救援", "災害救援", "災害", "救援"), w("瀬取り"),
                  w("海上交通の安全", "海上", "交通", "安全"), w("新興技術", "新興", "技術"),
                  w("衛星通信", "衛星", "通信"), w("防衛協力", "防衛", "協力")],
        "place": [w("横須賀"), w("佐世保"), w("那覇"), w("舞鶴"), w("東京", "東京"), w("東京都内", "東京都", "東京"),
                  w("京都", "京都"), w("京都府", "京都")],
        "partner": [w("NATO", "nato"), w("韓国"), w("オーストラリア"), w("米国"), w("欧州連合")],
        "drill": [w("演習"), w("訓練"), w("共同訓練", "共同", "訓練"), w("防災訓練", "防災", "訓練"),
                  w("図上演習", "図上", "演習")],
        "did": [w("実施した", "実施"), w("行った", "行う"), w("開催した", "開催"), w("実施しました", "実施"),
                w("行いました", "行う")],
    },
    "ko": {
        "org": [w("국방부", "국방부", "국방"), w("외교부"), w("해양경찰청", "해양경찰청", "해양", "경찰청"),
                w("합동참모본부", "합동참모본부", "합동"), w("나토 도쿄 연락사무소", "나토", "도쿄", "연락사무소")],
        "topic": [w("사이버 방어", "사이버", "방어"), w("사이버방어", "사이버", "방어"), w("미사일 방어", "미사일", "방어"),
                  w("해양 안보", "해양", "안보"), w("우주 상황 인식", "우주", "상황", "인식"),
                  w("허위 정보", "허위", "정보"), w("재난 구호", "재난", "구호"), w("위성 통신", "위성", "통신"),
                  w("신흥 기술", "신흥", "기술"), w("방어 협력", "방어", "협력"), w("국방 협력", "국방", "협력")],
        "place": [w("부산"), w("서울"), w("제주"), w("동해"), w("인천")],
        "partner": [w("나토"), w("일본"), w("미국"), w("호주"), w("유럽연합")],
        "drill": [w("합동훈련", "합동", "훈련"), w("연합 훈련", "연합", "훈련"), w("훈련"), w("해상 훈련", "해상", "훈련"),
                  w("도상 연습", "도상", "연습")],
    },
    "en": {
        "org": [w("Ministry of Defence", "ministry", "defence"), w("Ministry of Foreign Affairs", "ministry"),
                w("Japan Coast Guard", "japan", "coast", "guard"), w("Joint Staff", "joint", "staff"),
                w("NATO Liaison Office", "nato", "liaison", "office")],
        "topic": [w("cyber defence", "cyber", "defence"), w("maritime security", "maritime", "security"),
                  w("missile defence", "missile", "defence"), w("space situational awareness", "space", "awareness"),
                  w("disinformation"), w("disaster relief", "disaster", "relief"),
                  w("ship-to-ship transfers", "ship", "transfer"), w("satellite communications", "satellite"),
                  w("emerging technologies", "emerging", "technology"), w("port security", "port", "security")],
        "place": [w("Yokosuka"), w("Sasebo"), w("Busan"), w("the Sea of Japan", "sea", "japan"), w("Kyoto"),
                  w("Tokyo")],
        "partner": [w("NATO", "nato"), w("Korea"), w("Australia"), w("the United States", "united", "states")],
        "drill": [w("exercise"), w("exercises", "exercise"), w("training"), w("drills", "drill"),
                  w("tabletop exercise", "tabletop", "exercise")],
    },
    "fr": {
        "org": [w("le ministère de la Défense", "ministère", "défense"), w("le ministère des Affaires étrangères",
                "ministère"), w("les garde-côtes japonais", "garde-côtes"), w("l'état-major interarmées", "état-major"),
                w("le bureau de liaison de l'OTAN", "bureau", "liaison", "otan")],
        "topic": [w("cyberdéfense", "cyberdéfense", "défense"), w("sécurité maritime", "sécurité", "maritime"),
                  w("défense antimissile", "défense", "antimissile"), w("désinformation"),
                  w("secours en cas de catastrophe", "secours", "catastrophe"),
                  w("transbordements en mer", "transbordement", "mer"), w("surveillance de l'espace", "espace"),
                  w("communications par satellite", "satellite"), w("technologies émergentes", "technologie")],
        "place": [w("Yokosuka"), w("Sasebo"), w("Busan"), w("la mer du Japon", "mer", "japon"), w("Kyoto")],
        "partner": [w("l'OTAN", "otan"), w("la Corée", "corée"), w("l'Australie", "australie"),
                    w("les États-Unis", "états-unis")],
        "drill": [w("un exercice", "exercice"), w("des exercices", "exercice"), w("une formation", "formation"),
                  w("un exercice sur table", "exercice")],
    },
}

TEMPLATES: dict[str, list[Template]] = {
    "ja": [
        t("{org}は{topic}に関する協議を{place}で{did}。", "協議"),
        t("{topic}の{drill}を{partner}と共同で{did}。", "共同"),
        t("{org}は{topic}への対処能力を強化する方針を示した。", "対処", "能力", "強化", "方針"),
        t("{place}沖で瀬取りの疑いがある船舶を確認し、{org}に通報した。", "瀬取り", "船舶", "確認", "通報"),
        t("{topic}に関する報告書を取りまとめ、{partner}と共有した。", "報告書", "報告", "共有"),
        t("来月、{place}で{drill}を行う予定だ。", "行う", "予定"),
        t("地震の被災地で災害救援活動が行われている。", "地震", "被災地", "災害救援", "災害", "救援", "活動", "行う"),
        t("人工衛星の打ち上げについて{partner}と情報を交換した。", "人工衛星", "衛星", "打ち上げ", "情報", "交換"),
        t("{org}と{partner}は{topic}の分野で防衛協力を進めている。", "分野", "防衛", "協力"),
    ],
    "ko": [
        t("{org|은/는} {topic|을/를} 강화했다.", "강화", "강화하다"),
        t("{topic}에 관한 협의를 {place}에서 진행했다.", "협의", "진행"),
        t("{partner|과/와} 함께 {drill|을/를} 실시하였다.", "실시"),
        t("{topic} 관련 보고서를 제출했다.", "관련", "보고서", "보고", "제출"),
        t("{org|은/는} {topic} 상황을 보고했다.", "상황", "보고", "보고하다"),
        t("{topic} 동향을 살펴보고 대응 방안을 논의했다.", "동향", "대응", "방안", "논의"),
        t("{place} 인근 해역에서 선박 간 환적 의심 정황을 지켜보고 있다.", "해역", "선박", "환적", "의심"),
        t("한국방송공사는 {topic}에 대한 특집을 방송했다.", "한국방송공사", "방송", "특집"),
        t("지진 피해 지역에서 재난 구호 활동을 벌였다.", "지진", "재난", "구호", "활동"),
        t("{partner}의 방어 능력에 관한 평가를 공유했다.", "방어", "능력", "평가", "공유"),
        t("인공위성 발사 계획에 대해 {partner|과/와} 정보를 교환했다.", "인공위성", "위성", "발사", "정보", "교환"),
    ],
    "en": [
        t("The {org} strengthened {topic} cooperation with {partner}.", "cooperation"),
        t("{partner} and Japan held a joint {drill} off {place}.", "joint", "japan"),
        t("A port visit to {place} was scheduled after the exercise.", "port", "visit", "exercise"),
        t("The office filed a report on {topic}.", "office", "report"),
        t("Logistics support and transport for disaster relief were discussed.", "support", "transport", "disaster",
          "relief"),
        t("Suspected ship-to-ship transfers were observed near {place}.", "ship", "transfer"),
        t("Satellite imagery supported the assessment of {topic}.", "satellite", "support", "assessment"),
        t("Airport and seaport operations resumed after the typhoon.", "airport", "seaport", "typhoon"),
    ],
    "fr": [
        t("Le ministère de la Défense a renforcé la coopération en matière de {topic} avec {partner}.", "ministère",
          "défense", "coopération"),
        t("{partner} et le Japon ont mené {drill} au large de {place}.", "japon"),
        t("Une escale au port de {place} est prévue après l'exercice.", "escale", "port", "exercice"),
        t("Le commerce maritime a été perturbé mercredi par des transbordements suspects.", "commerce", "maritime",
          "mercredi", "transbordement"),
        t("Le bureau a transmis un rapport sur {topic}.", "bureau", "rapport"),
        t("Des images satellite ont appuyé l'évaluation de {topic}.", "satellite", "évaluation"),
        t("La mer de Chine orientale reste une zone de tension.", "mer", "chine", "zone", "tension"),
    ],
}
LANGUAGES = ("ja", "ko", "en", "fr")
_SLOT = re.compile(r"\{(\w+)(?:\|(\w+)/(\w+))?\}")


def has_final_consonant(text: str) -> bool:
    last = text[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def sentence(rng: random.Random, language: str) -> tuple[str, set[str]]:
    template = rng.choice(TEMPLATES[language])
    words = set(template.words)

    def fill(m: re.Match[str]) -> str:
        surface, held = rng.choice(SLOTS[language][m.group(1)])
        words.update(held)
        if m.group(2):  # Korean particle: the first after a final consonant (을, 은, 이, 과), else the second
            return surface + (m.group(2) if has_final_consonant(surface) else m.group(3))
        return surface

    return _SLOT.sub(fill, template.text), {word.lower() for word in words}


@dataclass
class Record:
    language: str
    sentences: list[str]
    words: set[str]

    @property
    def text(self) -> str:
        return "".join(s if self.language == "ja" else s + " " for s in self.sentences).strip()


def corpus(n: int, rng: random.Random) -> list[Record]:
    records = []
    for i in range(n):
        language = LANGUAGES[i % 4]
        record = Record(language, [], set())
        for _ in range(rng.choice((2, 3))):
            text, words = sentence(rng, language)
            record.sentences.append(text)
            record.words |= words
        if rng.random() < 1 / 7:  # a line in another language (a summary, a quoted title)
            text, words = sentence(rng, rng.choice([lang for lang in LANGUAGES if lang != language]))
            record.sentences.append(text)
            record.words |= words
        records.append(record)
    return records


@dataclass(frozen=True)
class Query:
    text: str
    language: str
    words: frozenset[str]  # what a relevant record holds (all of them)
    note: str = ""


def q(text: str, language: str, *words: str, note: str = "") -> Query:
    return Query(text, language, frozenset(words or (text,)), note)


QUERIES = [
    q("防衛", "ja", note="in サイバー防衛, 防衛省, 防衛協力"),
    q("訓練", "ja", note="in 共同訓練, 防災訓練"),
    q("演習", "ja"),
    q("衛星", "ja", note="in 人工衛星, 衛星通信"),
    q("京都", "ja", note="a trap: inside 東京都"),
    q("行う", "ja", note="inflected: 行った, 行われ, 行い"),
    q("瀬取り", "ja"),
    q("災害救援", "ja"),
    q("海上保安庁", "ja"),
    q("サイバー防衛", "ja"),
    q("방어", "ko", note="방어를, 방어에, 사이버방어"),
    q("훈련", "ko", note="in 합동훈련, 훈련을"),
    q("보고", "ko", note="in 보고서, 보고했다; a trap: 살펴보고, 지켜보고"),
    q("국방", "ko", note="in 국방부; a trap: 한국방송공사"),
    q("위성", "ko", note="in 인공위성"),
    q("환적", "ko"),
    q("해양경찰청", "ko"),
    q("강화하다", "ko", "강화하다", note="written 강화했다"),
    q("사이버 방어", "ko", "사이버", "방어"),
    q("재난 구호", "ko", "재난", "구호"),
    q("port", "en", note="a trap: report, support, transport, airport"),
    q("exercise", "en", note="exercises"),
    q("defence", "en"),
    q("satellite", "en"),
    q("transfer", "en", note="transfers"),
    q("disaster relief", "en", "disaster", "relief"),
    q("mer", "fr", note="a trap: commerce, mercredi"),
    q("exercice", "fr", note="exercices"),
    q("défense", "fr", note="in cyberdéfense"),
    q("transbordement", "fr", note="transbordements"),
    q("espace", "fr", note="in l'espace"),
    q("sécurité maritime", "fr", "sécurité", "maritime"),
]


# --- the analysers --------------------------------------------------------------------------------------------------

Tokenize = Callable[[str], list[tuple[str, str]]]  # (form as written, dictionary form) of each kept word
_SENTENCE = re.compile(r"[^。．.!?！？]+[。．.!?！？]?")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[^\W\d_]+|\d+")
_RUN = re.compile(r"[^\W_]+")
JA_SKIP = {"助詞", "助動詞", "補助記号", "記号", "空白"}
KO_KEEP = ("NN", "NR", "NP", "VV", "VA", "XR", "XSN", "SL", "SH", "SN")


def latin_tokens(text: str) -> list[tuple[str, str]]:
    return [(word, word) for word in _LATIN_WORD.findall(text.lower())]


def cjk_bigrams(text: str) -> list[tuple[str, str]]:
    """No analyser: each run of letters holding kana, kanji or Hangul as its overlapping two-character pieces
    (Lucene's CJK bigrams: 방어를 -> 방어 어를), other runs whole. A two-character word is one token of the index, a
    longer one the phrase of its bigrams, so it finds what the trigram index finds (substrings, traps included)."""
    tokens = []
    for run in _RUN.findall(text.lower()):
        if _HANGUL.search(run) or _KANA_KANJI.search(run):
            tokens += [(g, g) for g in ([run[i : i + 2] for i in range(len(run) - 1)] or [run])]
        else:
            tokens.append((run, run))
    return tokens


def load_sudachi(mode: str) -> Tokenize:
    from sudachipy import dictionary, tokenizer

    dic = dictionary.Dictionary(dict="core")
    split = getattr(tokenizer.Tokenizer.SplitMode, mode)
    make = getattr(dic, "tokenizer", None) or dic.create
    tok = make(mode=split)

    def tokens(text: str) -> list[tuple[str, str]]:
        return [(m.surface().lower(), m.dictionary_form().lower()) for m in tok.tokenize(text)
                if m.part_of_speech()[0] not in JA_SKIP]

    tokens("防衛省はサイバー防衛の演習を実施した。")  # the first call loads what the analyser loads lazily
    return tokens


def load_fugashi() -> Tokenize:
    import fugashi

    tagger = fugashi.Tagger()

    def tokens(text: str) -> list[tuple[str, str]]:
        return [(word.surface.lower(), (word.feature.orthBase or word.surface).lower()) for word in tagger(text)
                if word.feature.pos1 not in JA_SKIP]

    tokens("防衛省はサイバー防衛の演習を実施した。")
    return tokens


def load_kiwi() -> Tokenize:
    from kiwipiepy import Kiwi

    kiwi = Kiwi(num_workers=1)

    def tokens(text: str) -> list[tuple[str, str]]:
        return [(token.form.lower(), (token.lemma if token.tag.startswith(("VV", "VA")) else token.form).lower())
                for token in kiwi.tokenize(text) if token.tag.startswith(KO_KEEP)]

    tokens("국방부는 사이버 방어를 강화했다.")  # the first calls load the model lazily (seconds)
    tokens("사이버 방어에 관한 협의를 부산에서 진행했다.")
    return tokens


JAPANESE: dict[str, tuple[Callable[[], Tokenize], tuple[str, ...]]] = {
    "sudachi-C": (lambda: load_sudachi("C"), ("sudachipy", "sudachidict_core")),
    "sudachi-A": (lambda: load_sudachi("A"), ("sudachipy", "sudachidict_core")),
    "fugashi": (load_fugashi, ("fugashi", "unidic_lite")),
}
KOREAN_PACKAGES = ("kiwipiepy", "kiwipiepy_model")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def disk_size(module: str) -> int:
    """Bytes on disk of an installed package (its folder, and the ``<name>.libs`` folder of its bundled libraries)."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return 0
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] or ([Path(spec.origin)] if spec.origin else [])
    roots += [root.with_name(root.name + ".libs") for root in list(roots)]
    total = 0
    for root in roots:
        if root.is_file():
            total += root.stat().st_size
        elif root.is_dir():
            total += sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    return total


def script(sentence_text: str) -> str:
    if _HANGUL.search(sentence_text):
        return "ko"
    if _KANA_KANJI.search(sentence_text):
        return "ja"
    return "latin"


def sentences_of(text: str) -> list[tuple[str, str]]:
    """The sentences of a text, each with the analyser it goes to (by script: the language is not known)."""
    return [(script(s), s) for s in (m.group().strip() for m in _SENTENCE.finditer(text)) if s]


# --- the indexes ----------------------------------------------------------------------------------------------------

def searchable(needle: str) -> bool:
    """As kizuna.core.textsearch: three letters or digits in a row give the trigram index something to look up."""
    run = 0
    for ch in needle:
        run = run + 1 if ch.isalnum() else 0
        if run >= 3:
            return True
    return False


def glob_pattern(needle: str) -> str:
    return "*" + "".join({"*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch) for ch in needle) + "*"


def fresh(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-journal", "-wal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return sqlite3.connect(path, isolation_level=None)


def fill(conn: sqlite3.Connection, rows: Sequence[tuple[int, str]]) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO idx (rowid, body) VALUES (?, ?)", rows)
    conn.execute("COMMIT")


@dataclass
class Index:
    name: str
    path: Path
    conn: sqlite3.Connection
    build_s: float
    tokenize_s: dict[str, float] = field(default_factory=dict)  # seconds per kind of sentence: ja, ko, latin
    load_s: float = 0.0
    words: Tokenize | None = None  # the word index's tokenizer of a query word (None: trigram)
    found: dict[str, set[int]] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def search(self, query: str) -> set[int]:
        if self.words is None:
            return self._trigram(query)
        terms = []
        for word in query.split():
            tokens = self.words(word)
            if not tokens:
                return set()
            # The phrase of the dictionary forms, or of the forms as written: alone, a word may be analysed
            # otherwise than in a sentence (瀬取り alone: 瀬 + the verb 取る; in a sentence: 瀬 + the noun 取り).
            phrases = {" ".join(base for _, base in tokens), " ".join(form for form, _ in tokens)}
            prefix = "*" if script(word) == "latin" else ""
            terms.append("(" + " OR ".join('"' + p.replace('"', '""') + '"' + prefix for p in sorted(phrases)) + ")")
        sql = "SELECT rowid FROM idx WHERE idx MATCH ?"
        return {row[0] for row in self.conn.execute(sql, [" AND ".join(terms)])}

    def _trigram(self, query: str) -> set[int]:
        words = query.lower().split()
        long = [word for word in words if searchable(word)]
        short = [word for word in words if not searchable(word)]
        conditions = ["id IN (SELECT rowid FROM idx WHERE body GLOB ?)"] * len(long) + ["instr(c0, ?) > 0"] * len(short)
        sql = "SELECT id FROM idx_content WHERE " + " AND ".join(conditions)
        return {row[0] for row in self.conn.execute(sql, [*map(glob_pattern, long), *short])}


def build_trigram(records: list[Record], data_dir: Path) -> Index:
    path = data_dir / "trigram.sqlite3"
    conn = fresh(path)
    conn.execute("CREATE VIRTUAL TABLE idx USING fts5(body, tokenize='trigram case_sensitive 1', detail=none, "
                 "columnsize=0)")
    t0 = time.perf_counter()
    fill(conn, [(i, record.text.lower()) for i, record in enumerate(records, 1)])
    return Index("trigram", path, conn, time.perf_counter() - t0)


def build_words(name: str, records: list[Record], data_dir: Path, analyse: dict[str, Tokenize],
                shared: dict[int, list[str]], shared_s: dict[str, float], load_s: float, options: str = "detail=full") -> Index:
    """A word index: the Japanese sentences tokenized here, the others taken from ``shared`` (tokenized once for
    every variant; their time, ``shared_s``, is counted in each)."""
    path = data_dir / f"words-{name}.sqlite3"
    conn = fresh(path)
    conn.execute("CREATE VIRTUAL TABLE idx USING fts5(body, tokenize='unicode61 remove_diacritics 0', "
                 f"{options}, columnsize=0)")
    t0 = time.perf_counter()
    rows = []
    for i, record in enumerate(records, 1):
        tokens = list(shared.get(i, []))
        for kind, text in sentences_of(record.text):
            if kind == "ja":
                tokens += [base for _, base in analyse["ja"](text)]
        rows.append((i, " ".join(tokens)))
    spent = {**shared_s, "ja": time.perf_counter() - t0}
    t1 = time.perf_counter()
    fill(conn, rows)
    insert_s = time.perf_counter() - t1

    def query_tokens(word: str) -> list[tuple[str, str]]:
        return [token for kind, text in sentences_of(word) for token in analyse[kind](text)]

    return Index(name, path, conn, sum(spent.values()) + insert_s, spent, load_s, query_tokens)


def tokenize_shared(records: list[Record], analyse: dict[str, Tokenize]) -> tuple[dict[int, list[str]],
                                                                                   dict[str, float]]:
    """Korean and Latin-script sentences, tokenized once for every word index (Japanese is each variant's own),
    and the seconds spent on each kind."""
    shared: dict[int, list[str]] = {}
    spent = {"ko": 0.0, "latin": 0.0}
    for i, record in enumerate(records, 1):
        tokens = shared.setdefault(i, [])
        for kind, text in sentences_of(record.text):
            if kind != "ja":
                t0 = time.perf_counter()
                tokens += [base for _, base in analyse[kind](text)]
                spent[kind] += time.perf_counter() - t0
    return shared, spent


# --- figures --------------------------------------------------------------------------------------------------------



def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def recall_precision(found: set[int], relevant: set[int]) -> tuple[float | None, float | None]:
    recall = len(found & relevant) / len(relevant) if relevant else None
    precision = len(found & relevant) / len(found) if found else None
    return recall, precision


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def two_characters(query: Query) -> bool:
    return query.language in ("ja", "ko") and len(query.text) <= 2


def main() -> None:
    args = parse()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    print(machine())
    records = corpus(args.records, rng)
    chars = sum(len(record.text) for record in records)
    print(f"corpus: {len(records)} records, {chars / len(records):.0f} characters each on average, a quarter each in "
          f"ja/ko/en/fr, {sum(len(r.sentences) for r in records)} sentences")

    indexes = [build_trigram(records, data_dir)]
    bigram = {"ja": cjk_bigrams, "ko": cjk_bigrams, "latin": latin_tokens}
    indexes.append(build_words("bigram", records, data_dir, bigram, *tokenize_shared(records, bigram), 0.0))
    cjk_only: dict[str, Tokenize] = {"ja": cjk_bigrams, "ko": cjk_bigrams, "latin": lambda text: []}
    # It would answer two-character words only, one token each: no positions (detail=none) and no copy of the
    # tokens (contentless), neither needed to find a single token.
    beside_trigram = build_words("cjk-bigram", records, data_dir, cjk_only, *tokenize_shared(records, cjk_only), 0.0,
                                 options="content='', detail=none")
    analyse: dict[str, Tokenize] = {"latin": latin_tokens}
    ko_load = 0.0
    missing = [p for p in KOREAN_PACKAGES if not installed(p)]
    if missing:
        print(f"analyser missing: kiwipiepy ({', '.join(missing)} not installed): no analyser's word index built, "
              f"the trigram (and the bigram) side only")
        variants: list[str] = []
    else:
        t0 = time.perf_counter()
        analyse["ko"] = load_kiwi()
        ko_load = time.perf_counter() - t0
        print(f"analyser kiwipiepy: loaded in {ko_load:.2f} s; on disk "
              + ", ".join(f"{p} {disk_size(p) / 2**20:.1f} MiB" for p in (*KOREAN_PACKAGES, "_kiwipiepy", "numpy")))
        variants = [v.strip() for v in args.japanese.split(",") if v.strip()]
    shared, shared_s = tokenize_shared(records, analyse) if variants else ({}, {})
    for variant in variants:
        if variant not in JAPANESE:
            raise SystemExit(f"unknown Japanese analyser {variant!r}: one of {', '.join(JAPANESE)}")
        load, packages = JAPANESE[variant]
        missing = [p for p in packages if not installed(p)]
        if missing:
            print(f"analyser missing: {variant} ({', '.join(missing)} not installed): skipped")
            continue
        t0 = time.perf_counter()
        analyse["ja"] = load()
        ja_load = time.perf_counter() - t0
        print(f"analyser {variant}: loaded in {ja_load:.2f} s; on disk "
              + ", ".join(f"{p} {disk_size(p) / 2**20:.1f} MiB" for p in packages))
        indexes.append(build_words(variant, records, data_dir, dict(analyse), shared, shared_s, ja_load + ko_load))

    per_k = 1000 / len(records)
    for index in indexes:
        extra = ""
        if index.words is not None:
            spent = index.tokenize_s
            extra = (f" (tokenizing {sum(spent.values()) * per_k:.3f} s of it: ja {spent['ja'] * per_k:.3f}, "
                     f"ko {spent['ko'] * per_k:.3f}, en/fr {spent['latin'] * per_k:.3f}"
                     + (f"; analysers loaded once in {index.load_s:.2f} s)" if index.load_s else ")"))
        print(f"build {index.name}: {index.build_s * per_k:.3f} s per 1,000 records{extra}, "
              f"index file {index.size / 2**20:.2f} MiB")

    print(f"build cjk-bigram (the Japanese and Korean runs' bigrams alone, contentless, detail=none, a table to keep beside the "
          f"trigram for two-character words): "
          f"{beside_trigram.build_s * per_k:.3f} s per 1,000 records, index file {beside_trigram.size / 2**20:.2f} MiB")

    relevant = {query.text + "/" + query.language: {i for i, r in enumerate(records, 1) if query.words <= r.words}
                for query in QUERIES}
    for index in indexes:
        for query in QUERIES:
            key = query.text + "/" + query.language
            timings = []
            for _ in range(max(1, args.repeat)):
                t0 = time.perf_counter()
                index.found[key] = index.search(query.text)
                timings.append((time.perf_counter() - t0) * 1000)
            index.times[key] = timings

    def beside(label: str, figure: Callable[[Index], str]) -> None:
        print(f"{label}: " + " | ".join(f"{index.name} {figure(index)}" for index in indexes))

    print("queries, all matching keys read, ms p50 / p95 (a word index's time includes tokenizing the query):")
    for language in LANGUAGES:
        keys = [query.text + "/" + query.language for query in QUERIES if query.language == language]
        beside(f"{language} queries", lambda index, keys=keys: (
            f"{statistics.median([t for k in keys for t in index.times[k]]):.2f} / "
            f"{pct([t for k in keys for t in index.times[k]], .95):.2f} ms"))
    print("recall and precision per query (R, P; P n/a when nothing is found):")
    for query in QUERIES:
        key = query.text + "/" + query.language
        rel = relevant[key]
        note = f"; {query.note}" if query.note else ""
        beside(f"  {query.text} ({query.language}, {len(query.text.replace(' ', ''))} chars, {len(rel)} relevant{note})",
               lambda index, key=key, rel=rel: "R {} P {}".format(
                   *map(fmt, recall_precision(index.found[key], rel))))
    groups = [(f"{language} recall/precision", [x for x in QUERIES if x.language == language]) for language in
              LANGUAGES]
    groups.append(("two-character words", [x for x in QUERIES if two_characters(x)]))
    print("averages over the queries (macro):")
    for label, group in groups:
        keys = [x.text + "/" + x.language for x in group]

        def average(index: Index, keys: list[str] = keys) -> str:
            pairs = [recall_precision(index.found[k], relevant[k]) for k in keys]
            return f"R {fmt(mean([r for r, _ in pairs]))} P {fmt(mean([p for _, p in pairs]))}"

        beside(label, average)
    short = [x.text + "/" + x.language for x in QUERIES if two_characters(x)]
    beside(f"two-character words, time ({' '.join(k.split('/')[0] for k in short)})",
           lambda index: (f"{statistics.median([t for k in short for t in index.times[k]]):.2f} / "
                          f"{pct([t for k in short for t in index.times[k]], .95):.2f} ms"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
