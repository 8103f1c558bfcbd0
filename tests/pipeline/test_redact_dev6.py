"""Issue 14, dev6-dev8 (session 9): children's ages listed after them, ages at a life event or as a hedged range,
a name right before "he was <age>", a speaker introducing herself by a word-name, vocatives, pubs and businesses
named by their trade, and the courts, sums, lengths of time, rooms and platforms that must stay readable."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(model=None)  # the list, pattern and cue layers alone: the model can't paper over them


@pytest.fixture(scope="module")
def full() -> Detector:
    return load_detector()


def _labels_over(det: Detector, text: str, needle: str) -> list[str]:
    s = text.index(needle)
    return [sp.label for sp in det.detect(text) if sp.start <= s and s + len(needle) <= sp.end]


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("i live with my two kids eight and eleven in a flat", "eight", "AGE"),
    ("i live with my two kids eight and eleven in a flat", "eleven", "AGE"),
    ("He has two girls, 6 and 10, who stay with his mum.", "6", "AGE"),
    ("he'd have been fifteen then maybe sixteen", "sixteen", "AGE"),
    ("the bloke was older like forty odd", "forty", "AGE"),
    ("she left school at sixteen and went to work", "sixteen", "AGE"),
    ("my mum had me at nineteen on her own", "nineteen", "AGE"),
    ("The officer couldn't have been more than 23.", "23", "AGE"),
    ("she was fourteen year nine at the time", "year nine", "AGE"),
    ("my neighbour then dariusz he was thirty one", "dariusz", "PERSON"),
    ("a young woman faith she was twenty two", "faith", "PERSON"),
    ("i'm dawn i'm kayleigh's nan", "dawn", "PERSON"),
    ("she works at the bar lush nails on the high street", "lush nails", "ORGANISATION"),
    ("we both worked at the beauty lounge in shipley", "beauty lounge", "ORGANISATION"),
    ("he ran the rides at the pier funfair that summer", "pier funfair", "ORGANISATION"),
    # dev7 / dev8
    ("she said ruby you go and tell your mum", "ruby", "PERSON"),
    ("and my best mate is holly", "holly", "PERSON"),
    ("our daisy that's my niece found it first", "daisy", "PERSON"),
    ("paddy got a caution in the end", "paddy", "PERSON"),
    ("Then he got with Summer and sent her the lot.", "Summer", "PERSON"),
    ("we never found out spider's real name", "spider", "PERSON"),
    ("The man was a bit older, about 34.", "34", "AGE"),
    ("we've been friends since year eight", "year eight", "AGE"),
    ("he showed his mates at the pheasant on the friday", "the pheasant", "ORGANISATION"),
    ("i was working behind the bar at the half moon", "the half moon", "ORGANISATION"),
    ("he drove for kestrel haulage out of the docks", "kestrel haulage", "ORGANISATION"),
    ("she worked at bright smile dental on the parade", "bright smile dental", "ORGANISATION"),
    # dev9
    ("um the landlord idris his son was the one", "idris", "PERSON"),
    ("a woman philippa she was in her early thirties", "philippa", "PERSON"),
    ("there was this lad kit he worked on the boats", "kit", "PERSON"),
    ("the officer was young like twenty three", "twenty three", "AGE"),
    ("i rang them at like midnight", "midnight", "TIME"),
    ("i'm from the kestrel view estate in town", "kestrel view estate", "LOCATION"),
    ("i work at little acorns nursery now", "little acorns nursery", "ORGANISATION"),
    # dev10
    ("so she'd have been thirteen no fourteen yeah fourteen", "fourteen", "AGE"),
    ("she was in her thirties i think thirty six", "thirty six", "AGE"),
    ("She was in her 40s, 47 I think.", "47", "AGE"),
    ("we'd known each other since second year at school", "second year", "AGE"),
    ("she was doing the bar at the fat lamb on weekends", "the fat lamb", "ORGANISATION"),
    ("he drank at the bunch of grapes most nights", "the bunch of grapes", "ORGANISATION"),
    ("she was working at the copper kettle cafe in town", "copper kettle", "ORGANISATION"),
    ("i volunteer for lantern survivors trust now", "lantern survivors trust", "ORGANISATION"),
    # dev11
    ("two kids kyla who's nine and rio who's six", "rio", "PERSON"),
    ("she was in year nine so thirteen or fourteen", "fourteen", "AGE"),
    ("there was a man seventy one who'd been filmed by his carer", "seventy one", "AGE"),
    ("he runs golden wok the takeaway on the corner", "golden wok", "ORGANISATION"),
    ("she worked behind the bar at the jolly sailor", "the jolly sailor", "ORGANISATION"),
    ("she does lashes at luxe brow studio in town", "luxe brow studio", "ORGANISATION"),
    ("my church living waters tabernacle were brilliant", "living waters tabernacle", "ORGANISATION"),
])
def test_found(rules: Detector, text: str, needle: str, label: str) -> None:
    assert label in _labels_over(rules, text, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("we left at ten and got back at eleven", "ten"),
    ("there were like thirty odd messages in one night", "thirty"),
    ("it was more than twenty miles to the station", "twenty"),
    ("i sent him one thousand then two thousand pound", "two thousand"),
    ("we sat in the departure lounge for three hours", "departure lounge"),
    ("she went to the hair salon on the saturday", "hair salon"),
    ("he worked at a garage on the industrial estate", "industrial estate"),
    ("then he said he was sixteen online", "said"),
    ("i'm sure it was him in the video", "sure"),
    ("i'm frank with everyone about it", "frank"),
    ("may she rest in peace", "may"),
    ("Her dad works in Newry at the docks.", "works"),
    ("he pleaded to voyeurism on both counts", "voyeurism"),
    ("It was in the extractor fan above the shower.", "extractor"),
    ("he said hope you're okay and left", "hope"),
    ("i was over the moon when he got charged", "moon"),
    ("it went to the crown court in the end", "crown"),
    ("he rang the bell and ran off", "bell"),
    ("i met his mum at the leisure centre a few weeks later", "leisure centre"),
    ("we cover the villages and over to the coast", "over"),
    ("It used to be three or four a year.", "three"),
    ("The Victim Support worker stayed with her.", "Support"),
    ("the hall was about twelve rooms so it was a small world", "twelve"),
    ("she's sixteen stone of attitude that one", "sixteen"),
    ("my tutor way back was a good copper", "way"),
    ("one was a lad he was a young farmer he was twenty", "farmer"),
    ("the school her mum went to was shut", "school"),
    ("we'll call her back later", "back"),
    ("i didnae go to the polis for ages", "polis"),
    ("he put it on his finsta", "finsta"),
    ("she dropped him at the nursery", "nursery"),
    ("we live on the council estate", "council estate"),
    ("he was fifteen no sorry he was ten minutes late", "ten"),
    ("we went to the pub and then home", "pub"),
    ("He came out to the marina at four.", "marina"),
    ("She's doing canny now, to be honest.", "canny"),
    ("i had to use my nan's old one", "old"),
    ("I still go to the temple with my mum on Sundays.", "Sundays"),
    ("it was a jolly good night out", "jolly good"),
    ("we worked at the takeaway for years", "takeaway"),
    ("we went to the barbers on the friday", "barbers"),
])
def test_left_alone(rules: Detector, text: str, needle: str) -> None:
    assert _labels_over(rules, text, needle) == []


def test_a_business_called_the_something_is_redacted(rules: Detector) -> None:
    text = "she had a little shop in the village called the green door"
    assert _labels_over(rules, text, "the green door") != []


def test_a_capitalised_month_is_no_person(rules: Detector) -> None:
    assert "PERSON" not in _labels_over(rules, "We sat in the sun in May, and then he came.", "May")


def test_a_clock_time_after_a_life_event_is_no_age(rules: Detector) -> None:
    text = "she got married at twenty past two in the registry office"
    assert "AGE" not in _labels_over(rules, text, "twenty")


@pytest.mark.parametrize(("text", "needle"), [
    ("It went to the High Court, and he got six years.", "High Court"),
    ("It took a year to get to the Sheriff Court.", "Sheriff Court"),
    ("I've been in the job 22 years, and that one stays with me.", "22 years"),
    ("a man on roblox said he was twelve like her", "roblox"),
    ("A man on WeChat said he was from the embassy.", "WeChat"),
    ("He got a community order and 150 hours of unpaid work.", "150 hours"),
    ("The PPS took it on, and he pleaded guilty.", "PPS"),
    ("He shared it in a WhatsApp group.", "WhatsApp group"),
])
def test_the_model_leaves_alone(full: Detector, text: str, needle: str) -> None:
    assert _labels_over(full, text, needle) == []


def test_a_named_crown_court_is_still_a_place(full: Detector) -> None:
    text = "It went to Chester Crown Court in the end."
    assert _labels_over(full, text, "Chester") != []
