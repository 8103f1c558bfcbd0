"""UK police forces and the words officers use for them, ranks, and the units that identify a team.

Written by hand for this project (public facts: the Home Office list of territorial forces plus the special forces).
Each force has its canonical name, the phrases that mean the force wherever they appear ("the Met", "GMP"), and its
area words ("Kent", "Notts") which name the force only when a police word follows or precedes them ("Kent Police",
"Notts officers") and otherwise name a place. All matching is case-insensitive.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Force:
    name: str
    aliases: tuple[str, ...] = ()  # mean this force on their own
    areas: tuple[str, ...] = ()  # a force with a police word next to them, else a place


FORCES: tuple[Force, ...] = (
    Force("Avon and Somerset Constabulary", ("avon and somerset", "avon & somerset", "a and s", "asp"),
          ("avon", "somerset")),
    Force("Bedfordshire Police", (), ("bedfordshire", "beds")),
    Force("Cambridgeshire Constabulary", (), ("cambridgeshire", "cambs")),
    Force("Cheshire Constabulary", (), ("cheshire",)),
    Force("City of London Police", ("city of london police", "colp", "city police"), ("city of london",)),
    Force("Cleveland Police", (), ("cleveland", "teesside")),
    Force("Cumbria Constabulary", (), ("cumbria",)),
    Force("Derbyshire Constabulary", (), ("derbyshire",)),
    Force("Devon and Cornwall Police", ("devon and cornwall", "devon & cornwall", "d and c"), ("devon", "cornwall")),
    Force("Dorset Police", (), ("dorset",)),
    Force("Durham Constabulary", (), ("durham", "county durham")),
    Force("Dyfed-Powys Police", ("dyfed powys", "dyfed-powys", "dyfed"), ("powys",)),
    Force("Essex Police", (), ("essex",)),
    Force("Gloucestershire Constabulary", (), ("gloucestershire", "glos")),
    Force("Greater Manchester Police", ("gmp", "greater manchester police", "manchester police"),
          ("greater manchester", "manchester")),
    Force("Gwent Police", ("gwent",), ()),
    Force("Hampshire and Isle of Wight Constabulary", ("hampshire and isle of wight", "hampshire constabulary"),
          ("hampshire", "hants", "isle of wight", "iow")),
    Force("Hertfordshire Constabulary", (), ("hertfordshire", "herts")),
    Force("Humberside Police", ("humberside",), ("humber",)),
    Force("Kent Police", (), ("kent",)),
    Force("Lancashire Constabulary", (), ("lancashire", "lancs")),
    Force("Leicestershire Police", (), ("leicestershire", "leics")),
    Force("Lincolnshire Police", (), ("lincolnshire", "lincs")),
    Force("Merseyside Police", ("merseyside",), ("liverpool",)),
    Force("Metropolitan Police Service", ("metropolitan police", "met police", "the met", "mps", "scotland yard",
                                          "new scotland yard", "the yard", "met's"), ("london",)),
    Force("Norfolk Constabulary", (), ("norfolk",)),
    Force("North Wales Police", ("nwp", "north whales"), ("north wales",)),
    Force("North Yorkshire Police", ("nyp",), ("north yorkshire", "north yorks")),
    Force("Northamptonshire Police", (), ("northamptonshire", "northants")),
    Force("Northumbria Police", ("northumbria",), ("northumberland", "tyne and wear")),
    Force("Nottinghamshire Police", (), ("nottinghamshire", "notts")),
    Force("South Wales Police", ("swp", "south whales"), ("south wales",)),
    Force("South Yorkshire Police", ("syp",), ("south yorkshire", "south yorks")),
    Force("Staffordshire Police", (), ("staffordshire", "staffs")),
    Force("Suffolk Constabulary", (), ("suffolk",)),
    Force("Surrey Police", (), ("surrey",)),
    Force("Sussex Police", (), ("sussex",)),
    Force("Thames Valley Police", ("thames valley", "tvp"),
          ("buckinghamshire", "bucks", "oxfordshire", "oxon", "berkshire", "berks")),
    Force("Warwickshire Police", (), ("warwickshire", "warks")),
    Force("West Mercia Police", ("west mercia", "mercia"), ()),
    Force("West Midlands Police", ("west mids", "wmp", "west midlands police"), ("west midlands",)),
    Force("West Yorkshire Police", ("wyp", "west yorkshire police"), ("west yorkshire", "west yorks")),
    Force("Wiltshire Police", (), ("wiltshire", "wilts")),
    Force("British Transport Police", ("british transport police", "btp", "transport police"), ()),
    Force("Police Service of Northern Ireland", ("psni", "p s and i", "ps and i", "police service of northern ireland",
                                                 "ruc", "royal ulster constabulary"), ("northern ireland",)),
    Force("Police Scotland", ("police scotland", "police service of scotland", "strathclyde police", "strathclyde",
                              "lothian and borders", "grampian police", "tayside police", "fife constabulary",
                              "northern constabulary", "central scotland police", "dumfries and galloway constabulary"),
          ("grampian", "tayside", "fife", "dumfries and galloway")),
    # Across the Irish border: Northern Irish cases often involve the Republic's police.
    Force("An Garda Siochana", ("garda", "gardai", "garda siochana", "an garda siochana", "garda síochána",
                                "gardaí"), ()),
    # Crown dependencies: their own forces, outside the Home Office list.
    Force("States of Jersey Police", ("states of jersey police", "jersey police"), ("jersey",)),
    Force("Guernsey Police", ("guernsey police", "states of guernsey police"), ("guernsey",)),
    Force("Isle of Man Constabulary", ("isle of man constabulary", "manx police"), ("isle of man",)),
    Force("Ministry of Defence Police", ("ministry of defence police", "mod police", "mdp"), ()),
    Force("Civil Nuclear Constabulary", ("civil nuclear constabulary", "civil nuclear police", "cnc"), ()),
)

# A police word right after an area makes it a force ("Kent Police", "Notts officers", "Lancs Constabulary").
POLICE_AFTER = ("police", "constabulary", "force", "police force", "police service", "officers", "officer", "cops",
                "old bill", "coppers", "bobbies", "plod", "police's", "constabulary's")
# ... and so does a policing verb before it ("joined Kent", "transferred to Notts").
POLICE_BEFORE = ("joined", "join", "transferred to", "transferred from", "transfer to", "seconded to",
                 "seconded from", "secondment to", "worked for", "work for", "served with", "served in")

# Ranks and titles that put a name after them. Ranks make the named person an officer.
RANKS = (
    "pc", "wpc", "dc", "tdc", "ds", "tds", "di", "dci", "dsu", "dsi", "pcso", "ps", "psi", "sgt", "sgt.", "insp",
    "insp.", "supt",
    "ch supt", "det supt", "det sgt", "det insp", "det con", "sergeant", "sarge", "inspector", "constable",
    "detective", "detective constable", "detective sergeant", "detective inspector", "detective chief inspector",
    "detective superintendent", "detective chief superintendent", "chief inspector", "superintendent",
    "chief superintendent", "chief constable", "deputy chief constable", "assistant chief constable", "acc", "dcc",
    "commander", "commissioner", "special constable", "special", "skipper", "guv", "guvnor", "officer",
)
TITLES = ("mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "dr", "dr.", "doctor", "sir", "dame", "lady",
          "lord", "professor", "prof", "judge", "father", "nurse", "councillor", "cllr", "uncle", "auntie", "aunty",
          "nan", "nana", "grandad")
# Ranks that are also common words only count as a cue in front of a name-like word (never alone).
AMBIGUOUS_RANKS = ("special", "officer", "detective", "constable", "commander", "skipper", "guv")

# "my sergeant X", "the officer in the case X": someone who is an officer by context.
OFFICER_ROLES = ("sergeant", "sarge", "skipper", "inspector", "tutor", "tutor constable", "ds", "di", "dc", "dci",
                 "pc", "oic", "officer in the case", "officer in charge", "supervisor", "guvnor", "guv", "boss",
                 "superintendent", "super", "chief inspector", "detective", "response sergeant", "custody sergeant",
                 "crewmate", "crew mate", "colleague", "oppo")

# Departments and teams whose name identifies who is meant (a force's PSD, a named unit).
DEPARTMENTS = ("professional standards", "professional standards department", "psd", "anti-corruption unit",
               "anti corruption unit", "counter corruption unit", "counter-corruption unit", "acu",
               "sapphire", "sapphire team", "sapphire unit")
# A unit word after a place names a team in that place ("Bolton CID", "Leeds MASH").
UNITS_AFTER_PLACE = ("cid", "mash", "ppu", "puu", "dau", "npt", "lpu", "bcu", "moj", "hub", "safeguarding hub",
                     "safeguarding unit", "safeguarding team", "public protection unit", "major crime",
                     "major crimes", "major incident team", "mit", "neighbourhood team", "response team", "division",
                     "district", "nick", "police station", "station", "custody", "custody suite", "magistrates",
                     "magistrates court", "magistrates' court", "crown court", "county court", "family court",
                     "court", "sarc", "college", "university", "academy", "high school", "school", "hospital",
                     "infirmary", "general hospital", "royal infirmary")

# Named things that identify no one: kept readable (apps and national bodies are what the study is about).
NOT_IDENTIFYING = frozenset({
    "snapchat", "snap", "instagram", "insta", "facebook", "fb", "messenger", "whatsapp", "tiktok", "twitter", "x",
    "onlyfans", "telegram", "reddit", "discord", "kik", "tinder", "grindr", "hinge", "bumble", "youtube", "google",
    "google drive", "icloud", "iphone", "android", "apple", "samsung", "microsoft", "teams", "microsoft teams",
    "zoom", "skype", "pornhub", "xvideos", "gmail", "hotmail", "outlook", "yahoo", "wifi", "bluetooth", "airdrop",
    "cps", "crown prosecution service", "home office", "iopc", "ipcc", "college of policing", "npcc", "nca",
    "national crime agency", "ceop", "action fraud", "crimestoppers", "victim support", "revenge porn helpline",
    "nhs", "ofcom", "hmicfrs", "hmic", "parliament", "government", "police", "the police", "pnc", "pnd", "niche",
    "anpr", "dash", "mash", "cid", "sarc", "isva", "idva", "abe", "nfa", "rasso", "cps direct", "uk",
    "united kingdom", "britain", "great britain", "england and wales", "british", "english", "brit", "brits",
    "covid", "lockdown", "christmas tree", "god", "jesus",
    "mum", "dad", "nan", "grandad", "sergeant", "inspector", "detective", "pc", "ds", "di", "dc", "dci",
    # a kind of court names no place ("it went to Crown Court"); "Liverpool Crown Court" does
    "crown court", "magistrates court", "magistrates' court", "magistrates", "family court", "youth court",
    "whatsapp group", "facebook group", "snapchat group", "group chat", "pps", "public prosecution service",
    "copfs", "procurator fiscal", "fiscal", "landlady", "landlord", "helpline", "the helpline",
    "barbers", "barber's", "the barbers", "forecourt", "flatmate", "lassie", "farmhand", "non molestation",
    "roblox", "wechat", "viber", "omegle", "twitch", "xbox", "playstation", "fortnite", "minecraft", "vinted",
    "depop", "ebay", "gumtree", "gcses", "gcse", "mammy", "mam", "granda", "coercive",
    "high court", "sheriff court", "county court", "court of appeal", "appeal court", "supreme court",
    "coroner's court", "high court of justiciary",
})
