"""Draw real customer posts to label with topics, without looking at what the packs say.

Posts come from ../shared/data/twcs (customer messages, industry from the support account
that answered them or that they answer: respond/evaldata/twcs-brands.toml) and from the
ACL 2019 complaints set (industry from the support account a post mentions: COMPLAINTS
below). Posts already in understand/data/topics.jsonl are left out, the rest are shuffled
with a fixed seed per industry and written as JSON lines (source, tweet_id, industry, text)
for a person to label; the labels then go to topics.jsonl with their split.

    python scripts/sample_topic_posts.py ../shared/data > /tmp/candidates.jsonl
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

from uproar.respond.inbox_eval import twcs_industries
from uproar.respond.twcs import read_twcs
from uproar.understand.evaluate import read_topic_labels

# Support accounts the complaints set mentions, by the industry whose pack fits them
# (accounts of other industries, such as cars, insurers and trains, are left out).
COMPLAINTS = {
    "telco": [
        "VodafoneIN",
        "Safaricom_Care",
        "EE",
        "virginmedia",
        "ThreeUKSupport",
        "ThreeUK",
        "DIRECTVService",
        "DIRECTV",
        "comcastcares",
        "comcast",
        "XFINITY",
        "BTCare",
        "bt_uk",
        "Airtel_Presence",
    ],
    "airline": [
        "JetBlue",
        "AirAsiaSupport",
        "united",
        "British_Airways",
        "AmericanAir",
        "Delta",
        "SouthwestAir",
    ],
    "bank": ["SquareUK", "SqSupportUK", "HSBC_UK_Help"],
    "retail": [
        "neimanmarcus",
        "ZARA_Care",
        "Nordstrom",
        "pizzahut",
        "McDonalds",
        "ASOS_HeretoHelp",
        "DICKS",
        "HarrodsService",
        "KFC_UKI",
        "KFC_UKI_Help",
        "WholeFoods",
        "hm_custserv",
        "AskeBay",
        "IKEAUKSupport",
        "BootsUK",
        "BootsHelp",
        "AmazonHelp",
        "BestBuySupport",
        "Walmart",
        "walmarthelp",
        "TopmanAskUs",
        "Superdry_Care",
        "BN_care",
        "Arbys",
        "ArbysCares",
        "UPS",
        "UPSHelp",
        "NBASTORESupport",
        "FC_Help",
    ],
    "online": [
        "MicrosoftHelps",
        "UbisoftSupport",
        "XboxSupport",
        "TwitterSupport",
        "AskPlayStation",
        "awscloud",
        "AWSSupport",
        "AppleSupport",
        "Uber_Support",
        "DropboxSupport",
        "AdobeCare",
        "hulu_support",
        "NortonSupport",
        "Medium",
        "Yelp",
        "yelpsupport",
        "sho_help",
        "AOLSupportHelp",
        "TeamTurboTax",
    ],
    "energy": ["nationalgridus", "GeorgiaPower", "KenyaPower_Care", "KenyaPower"],
}


def twcs_posts(data: Path) -> list[tuple[str, str, str]]:
    """(tweet_id, industry, text) of each customer message with a known support account."""
    industry = twcs_industries()
    sample = read_twcs(data / "twcs" / "twcs_head.csv")
    by_id = sample.by_id()
    answered_by: dict[str, str] = {}
    for r in sample.agent_replies:
        if r.in_reply_to:
            answered_by.setdefault(r.in_reply_to, r.author)
    out = []
    for r in sample.customer_messages:
        brand = answered_by.get(r.id)
        if brand is None and r.in_reply_to in by_id and not by_id[r.in_reply_to].inbound:
            brand = by_id[r.in_reply_to].author
        if brand in industry:
            out.append((r.id, industry[brand], r.text))
    return out


def complaints_posts(data: Path) -> list[tuple[str, str, str]]:
    handles = {h.lower(): ind for ind, hs in COMPLAINTS.items() for h in hs}
    out = []
    with (data / "complaints" / "complaints-data.csv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if len(row) != 4:
                continue
            mentioned = {h.lower() for h in re.findall(r"@(\w+)", row[1])}
            found = {handles[h] for h in mentioned if h in handles}
            if len(found) == 1:
                out.append((row[0], found.pop(), row[1]))
    return out


def main(data: Path, seed: int = 14) -> None:
    done = {(r["source"], r["tweet_id"]) for r in read_topic_labels()}
    posts = [("twcs", *p) for p in twcs_posts(data)] + [
        ("complaints", *p) for p in complaints_posts(data)
    ]
    for industry in sorted({p[2] for p in posts}):
        mine = sorted(p for p in posts if p[2] == industry and (p[0], p[1]) not in done)
        random.Random(f"{seed}:{industry}").shuffle(mine)
        for source, tweet_id, ind, text in mine:
            row = {"source": source, "tweet_id": tweet_id, "industry": ind, "text": text}
            print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
