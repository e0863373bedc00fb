"""Deterministic generator of Sparkify-compatible song and event-log files.

Why: the pipeline must be tested and benchmarked on data that looks exactly like
the real Udacity/Sparkify sample (same paths, key order, JSON formatting and the
same data-quality quirks), at sizes and dates the sample does not cover, and the
output must be byte-reproducible so test failures and benchmarks can be replayed.

Layout written under ``--out``::

    song_data/A/B/C/TRABC....json       one compact-ish JSON object, no final newline
    log_data/YYYY/MM/YYYY-MM-DD-events.json  JSON lines, no final newline

or, with ``--events-partition-prefix TEMPLATE`` (the template of config.json's
``source.events_partition_prefix``, events_prefix ``log_data``), the same log files in that layout:
Hive-style ``log_data/year={{ year }}/month={{ month }}/day={{ day }}/`` writes
``log_data/year=2018/month=11/day=05/events.json``.

Quirks reproduced on purpose (they are what the pipeline has to cope with):
logged-out/guest events with ``userId ""`` and null user fields; double-Latin-1
mojibake of non-ASCII ``song``/``artist`` strings in the logs only; users whose
level flips free<->paid inside one day; a configurable share of NextSong events
that match a catalogue song exactly; songs with ``year`` 0, artists with empty
location and null coordinates; equal ``ts`` for two different users; ts and
registration values whose milliseconds are always 796, ``\\/``-escaped slashes
and ``\\uXXXX``-escaped non-ASCII like the real files.

Only ``random.Random`` seeded from strings is used (SHA-512 based, immune to
hash randomisation), and every day has its own RNG derived from seed + date, so
any sub-range of dates yields byte-identical files for the shared days.
"""

from __future__ import annotations

import argparse
import json
import time
from array import array
from bisect import bisect
from datetime import UTC, date, datetime
from pathlib import Path
from random import Random
from typing import NamedTuple

from sparkify.config_model import DEFAULT_EVENTS_PARTITION_PREFIX
from sparkify.source_layout import partition_layout

DAY_SECONDS = 86_400
MS_SUFFIX = 796  # every ts/registration in the real sample ends in 796 ms
SESSION_BASE = date(2018, 1, 1)  # sessionIds stay < 2**31 (Redshift INT4)
OFF_CATALOGUE_SIZE = 1_000  # fixed so that the pool never depends on volume
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CHUNK = 20_000  # lines per write(): large buffered writes, bounded memory
EVENTS_PREFIX = "log_data"  # config.json's source.events_prefix

FIRST = ["Walter", "Jacob", "Aleena", "Ryan", "Tegan", "Lily", "Sara", "Kevin", "Samuel", "Jayden",
         "Chloe", "Layla", "Noah", "Mohammad", "Cienna", "Jordan", "Avery", "Matthew"]
GENDER = "MMFMFFFMMMFFMMFMFM"
LAST = ["Frye", "Summers", "Kirby", "Smith", "Levine", "Koch", "Johnson", "Arellano", "Gonzalez", "Bell",
        "Cuevas", "Griffin", "Long", "Rodriguez", "Freeman", "Watkins", "Hogan", "Jones", "Cruz", "Lynch"]
METROS = ["San Francisco-Oakland-Hayward, CA", "Phoenix-Mesa-Scottsdale, AZ", "Portland-South Portland, ME",
          "Lansing-East Lansing, MI", "Chicago-Naperville-Elgin, IL-IN-WI", "Atlanta-Sandy Springs-Roswell, GA",
          "Waterloo-Cedar Falls, IA", "Lake Havasu City-Kingman, AZ", "San Jose-Sunnyvale-Santa Clara, CA",
          "New York-Newark-Jersey City, NY-NJ-PA", "Houston-The Woodlands-Sugar Land, TX",
          "Tampa-St. Petersburg-Clearwater, FL"]
AGENTS = [  # only agents containing a comma: the real export quoted exactly those
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/36.0.1985.143 Safari/537.36"),
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36",
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) "
     "Version/7.0.6 Safari/537.78.2"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 "
     "Chrome/36.0.1985.125 Safari/537.36"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
     "Version/7.0 Mobile/11D257 Safari/9537.53"),
]
# Real artists with non-ASCII names: the catalogue always starts with them so the
# mojibake quirk is exercised whatever the seed.
ACCENTED_ARTISTS = ["Sigur Rós", "Björk", "Röyksopp", "Habib Koité", "Beyoncé", "Motörhead"]
WORDS = ["Love", "Night", "Fire", "Rain", "Dream", "Heart", "City", "Blue", "Gold", "River", "Ghost", "Summer",
         "Light", "Road", "Home", "Wild", "Silver", "Echo", "Stone", "Dance", "Shadow", "Ocean", "Star", "Time",
         "Café", "Niño", "Señor", "Été", "Über", "Mañana", "Déjà", "Ósk", "Soldado", "Amor", "Vida", "Noche"]
SONG_LOCATIONS = ["California - LA", "Nashville, TN.", "California - SF", "London, England", "Denmark",
                  "Zagreb Croatia", "Chicago, IL", "Hamilton, Ohio", "Reykjavik, Iceland", "Montréal, Québec"]

# Browsing pages: (method, page, status, weight). NextSong dominates as in the sample.
PAGES = [("PUT", "NextSong", 200, 850), ("GET", "Home", 200, 80), ("GET", "Settings", 200, 10),
         ("GET", "Help", 200, 8), ("GET", "About", 200, 5), ("GET", "Upgrade", 200, 4),
         ("GET", "Downgrade", 200, 8), ("PUT", "Save Settings", 307, 2), ("GET", "Error", 404, 2)]
EXTRA_PAGES = [("PUT", "Login", 307), ("PUT", "Logout", 307), ("PUT", "Submit Upgrade", 307),
               ("PUT", "Submit Downgrade", 307), ("GET", "Register", 200), ("PUT", "Submit Registration", 307)]
ALL_PAGES = [p[:3] for p in PAGES] + EXTRA_PAGES
P_NEXT, P_HOME, P_UPG, P_DOWNG = 0, 1, 5, 6
P_LOGIN, P_LOGOUT, P_SUB_UP, P_SUB_DOWN, P_REGISTER, P_SUB_REG = range(len(PAGES), len(ALL_PAGES))
PAGE_CUM = [sum(p[3] for p in PAGES[: i + 1]) for i in range(len(PAGES))]
F_PAID, F_OUT, F_GUEST = 1, 2, 4  # per-event flags

LINE = ('{"artist":%s,"auth":"%s","firstName":%s,"gender":%s,"itemInSession":%d,"lastName":%s,"length":%s,'
        '"level":"%s","location":%s,"method":"%s","page":"%s","registration":%s,"sessionId":%d,"song":%s,'
        '"status":%d,"ts":%d,"userAgent":%s,"userId":%s}')


class Song(NamedTuple):
    """One catalogue entry; field order is the song file's key order."""

    num_songs: int
    artist_id: str
    artist_latitude: float | None
    artist_longitude: float | None
    artist_location: str
    artist_name: str
    song_id: str
    title: str
    duration: float
    year: int


class User(NamedTuple):
    """A Sparkify user; level history is a pure function of the profile and the date."""

    user_id: str
    first: str
    last: str
    gender: str
    location: str
    registration: float
    agent: str
    paid: bool  # level before the first toggle
    period: int  # level toggles on days where (ordinal + phase) % period == 0
    phase: int


def mojibake(s: str) -> str:
    """UTF-8 text decoded as Latin-1 twice, as in the real logs ("Sigur RÃ\\x83Â³s")."""
    return s.encode("utf-8").decode("latin-1").encode("utf-8").decode("latin-1")


def _js(value: object) -> str:
    """JSON fragment in the real log style: ASCII with \\u escapes and ``\\/``."""
    return json.dumps(value).replace("/", "\\/")


def _rid(rng: Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(rng.choice(ALNUM) for _ in range(n))


def _title(rng: Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def make_catalogue(seed: int, songs: int) -> list[tuple[str, Song]]:
    """Return ``(track_id, Song)`` pairs; about 80% as many artists as songs, so some share."""
    rng = Random(f"{seed}:catalogue")
    n_artists = max(1, round(songs * 0.8))
    artists = []
    for i in range(n_artists):
        name = ACCENTED_ARTISTS[i] if i < len(ACCENTED_ARTISTS) else f"The {rng.choice(WORDS)} {rng.choice(LAST)}s"
        r = rng.random()
        location = "" if r < 0.4 else rng.choice(SONG_LOCATIONS)
        lat = lon = None
        if r >= 0.55:
            lat, lon = round(rng.uniform(-60, 70), 5), round(rng.uniform(-160, 160), 5)
        artists.append((_rid(rng, "AR"), lat, lon, location, name))
    out: list[tuple[str, Song]] = []
    seen: set[str] = set()
    for i in range(songs):
        artist = artists[i] if i < n_artists else rng.choice(artists)
        tid = "TRA" + rng.choice("AB") + rng.choice("ABC") + _rid(rng, "", 13)
        while tid in seen:
            tid = "TRA" + rng.choice("AB") + rng.choice("ABC") + _rid(rng, "", 13)
        seen.add(tid)
        year = 0 if rng.random() < 0.5 else rng.randint(1960, 2010)
        duration = round(rng.uniform(30.0, 600.0), 5)
        out.append((tid, Song(1, *artist, _rid(rng, "SO"), _title(rng), duration, year)))
    return out


def make_off_catalogue(seed: int, catalogue: list[Song]) -> list[tuple[str, str, float]]:
    """Songs that are played but absent from the catalogue; some by catalogue artists."""
    rng = Random(f"{seed}:offcatalogue")
    known = {(s.title, s.artist_name) for s in catalogue}
    pool: list[tuple[str, str, float]] = []
    while len(pool) < OFF_CATALOGUE_SIZE:
        if catalogue and rng.random() < 0.2:
            artist = rng.choice(catalogue).artist_name
        else:
            artist = f"{rng.choice(WORDS)} {rng.choice(LAST)}"
        title = _title(rng)
        if (title, artist) not in known:
            pool.append((title, artist, round(rng.uniform(30.0, 600.0), 5)))
    return pool


def make_users(seed: int, users: int) -> list[User]:
    """User k's profile depends on seed and k only, not on the total number of users."""
    rng = Random(f"{seed}:users")
    out = []
    for k in range(users):
        i = rng.randrange(len(FIRST))
        reg = float(1_538_352_000_000 + rng.randrange(30 * DAY_SECONDS) * 1000 + MS_SUFFIX)
        period = rng.randint(20, 60)
        out.append(User(str(k + 1), FIRST[i], rng.choice(LAST), GENDER[i], rng.choice(METROS), reg,
                        rng.choice(AGENTS), rng.random() < 0.6, period, rng.randrange(period)))
    return out


def level_today(u: User, day: date) -> tuple[bool, bool]:
    """(paid at start of day, toggles today): a pure function, so days stay independent."""
    o = day.toordinal() + u.phase
    return u.paid ^ bool(((o - 1) // u.period) & 1), o % u.period == 0


def generate_day(rng: Random, day: date, users: list[User], n: int, n_songs: int, n_pool: int,
                 match_share: float) -> tuple[tuple[array, ...], list[tuple[int, int]]]:
    """Build one day's events as compact parallel arrays (not dicts/strings, to keep 1M
    events cheap in memory); returns ((ts, sess, item, page, song, flags), sessions)."""
    ts, sess, item, page, song, flags = (array("l"), array("l"), array("l"), array("b"), array("l"), array("b"))
    sessions: list[tuple[int, int]] = []  # (user index or -1 for guests, sessionId)
    sid_base = ((day - SESSION_BASE).days % 2000) * 1_000_000 + 1
    changes = [(i, *level_today(u, day)) for i, u in enumerate(users)]
    plan = [(i, paid) for i, paid, toggles in changes if toggles]  # change sessions first
    change_at: dict[int, int] = {}
    starts: list[int] = []
    total = 0
    while total < n:
        k = len(sessions)
        change = k < len(plan)
        if change:
            ui, paid = plan[k]
        elif users and rng.random() > 0.01:
            ui = rng.randrange(len(users))
            paid = changes[ui][1]
        else:
            ui, paid = -1, False  # guest session
        evs: list[tuple[int, int, int, int]] = []  # (offset s, page, song, flags)
        t = 0
        lvl = F_PAID if paid else 0
        if ui < 0:
            for p in (P_HOME, P_REGISTER, P_SUB_REG)[: rng.randint(1, 3)]:
                evs.append((t, p, -1, F_GUEST))
                t += rng.randrange(60)
        else:
            if rng.random() < 0.1:
                evs.append((t, P_LOGIN, -1, lvl | F_OUT))
                t += rng.randrange(10)
            evs.append((t, P_HOME, -1, lvl))
            t += rng.randrange(3)  # first song often shares the Home ts, as in the sample
            body = min(110, int(rng.expovariate(1 / 15)) + 1)
            switch_at = rng.randrange(body) if change else -1
            for j in range(body):
                if j == switch_at:
                    up = not lvl
                    for p in (P_UPG if up else P_DOWNG, P_SUB_UP if up else P_SUB_DOWN):
                        evs.append((t, p, -1, lvl))
                        t += rng.randrange(1, 30)
                    lvl ^= F_PAID
                    evs.append((t, P_HOME, -1, lvl))
                    t += rng.randrange(1, 30)
                p = bisect(PAGE_CUM, rng.random() * PAGE_CUM[-1])
                if p == P_NEXT:
                    if rng.random() < match_share and n_songs:
                        s = rng.randrange(n_songs)
                    else:
                        s = n_songs + rng.randrange(n_pool)
                    evs.append((t, p, s, lvl))
                    t += rng.randint(30, 400)
                else:
                    if p in (P_UPG, P_DOWNG):
                        p = P_DOWNG if lvl else P_UPG
                    evs.append((t, p, -1, lvl))
                    t += rng.randrange(60)
            if rng.random() < 0.3:
                evs.append((t, P_LOGOUT, -1, lvl))
                if rng.random() < 0.5:
                    evs.append((t + rng.randrange(1, 20), P_HOME, -1, lvl | F_OUT))
        duration = evs[-1][0]
        start = rng.randrange(DAY_SECONDS - duration)
        if k == 1 and sessions[0][0] != ui and starts[0] + duration < DAY_SECONDS:
            start = starts[0]  # quirk 6: two different users at the very same ts
        if change:
            change_at[ui] = start
        elif ui in change_at and start > change_at[ui]:
            # after today's change session this user already has the new level
            evs = [(o, p, s, f ^ F_PAID) for o, p, s, f in evs]
        starts.append(start)
        sid = sid_base + k
        sessions.append((ui, sid))
        for idx, (o, p, s, f) in enumerate(evs[: n - total]):
            ts.append(start + o)
            sess.append(k)
            item.append(idx)
            page.append(p)
            song.append(s)
            flags.append(f)
        total += min(len(evs), n - total)
    return (ts, sess, item, page, song, flags), sessions


def day_file(out: Path, day: date, events_partition_prefix: str = DEFAULT_EVENTS_PARTITION_PREFIX) -> Path:
    """Where a day's log file goes: the layout's prefix for the day (events_prefix log_data), then
    ``events.json`` in a day folder or ``-events.json`` after a prefix that ends in the day."""
    prefix = partition_layout(events_partition_prefix, EVENTS_PREFIX).prefix(day.isoformat())
    return out / (prefix + ("events.json" if prefix.endswith("/") else "-events.json"))


def generate(out: Path, start: date, end: date, users: int, events_per_day: int, songs: int,
             match_share: float, seed: int, shapes: RareShapes | None = None,
             events_partition_prefix: str = DEFAULT_EVENTS_PARTITION_PREFIX) -> dict:
    """Write song files and one log file per day in [start, end]; return counts.

    shapes: rare real-world shapes to add to every day (RareShapes); their numbers are added
    to the counts under "shapes" (the plain counts describe the generated events only).
    events_partition_prefix: the events' layout (config.json's source.events_partition_prefix);
    a day's file has the same bytes in every layout.
    """
    out = Path(out)
    day_file(out, start, events_partition_prefix)  # an invalid layout fails before anything is written
    catalogue = make_catalogue(seed, songs)
    cat_songs = [s for _, s in catalogue]
    for tid, s in catalogue:
        path = out / "song_data" / tid[2] / tid[3] / tid[4] / f"{tid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(s._asdict()), encoding="ascii", newline="\n")
    pool = make_off_catalogue(seed, cat_songs)
    played = [(s.title, s.artist_name, s.duration) for s in cat_songs] + pool
    song_js = [(_js(mojibake(a)), _js(mojibake(t)), repr(d)) for t, a, d in played]
    nulls = ("null",) * 3
    anon = ("null",) * 6 + ('""',)  # logged-out/guest events carry no user fields
    user_list = make_users(seed, users)
    user_js = [(_js(u.first), _js(u.gender), _js(u.last), _js(u.location), repr(u.registration),
                _js(f'"{u.agent}"' if "," in u.agent else u.agent), _js(u.user_id)) for u in user_list]
    page_js = [(m, _js(p)[1:-1], st) for m, p, st in ALL_PAGES]
    counts = {"files": len(catalogue), "song_files": len(catalogue), "log_files": 0, "songs": len(catalogue),
              "events": 0, "nextsong": 0, "nextsong_with_user": 0, "nextsong_matched": 0, "logged_out": 0,
              "level_changes": 0}
    day = start
    while day <= end:
        rng = Random(f"{seed}:day:{day.isoformat()}")
        (ts, sess, item, page, song, flags), sessions = generate_day(
            rng, day, user_list, events_per_day, len(cat_songs), len(pool), match_share)
        day_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000 + MS_SUFFIX
        order = sorted(range(len(ts)), key=ts.__getitem__)  # stable: ties keep session order
        path = day_file(out, day, events_partition_prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="ascii", newline="\n", buffering=1 << 20) as fh:
            lines: list[str] = []
            sep = ""
            for i in order:
                ui, sid = sessions[sess[i]]
                f, p, s = flags[i], page[i], song[i]
                out_ = f & (F_OUT | F_GUEST)
                fn, g, ln, loc, reg, ua, uid = anon if out_ else user_js[ui]
                ar, ti, le = song_js[s] if s >= 0 else nulls
                m, pg, st = page_js[p]
                auth = "Guest" if f & F_GUEST else "Logged Out" if out_ else "Logged In"
                lines.append(LINE % (ar, auth, fn, g, item[i], ln, le, "paid" if f & F_PAID else "free", loc,
                                     m, pg, reg, sid, ti, st, day_ms + ts[i] * 1000, ua, uid))
                if len(lines) >= CHUNK:
                    fh.write(sep + "\n".join(lines))
                    sep, lines = "\n", []
            if lines:
                fh.write(sep + "\n".join(lines))
        n_songs = len(cat_songs)
        nexts = [i for i in range(len(ts)) if page[i] == P_NEXT]
        counts["log_files"] += 1
        counts["files"] += 1
        counts["events"] += len(ts)
        counts["nextsong"] += len(nexts)
        counts["nextsong_with_user"] += sum(1 for i in nexts if not flags[i] & (F_OUT | F_GUEST))
        counts["nextsong_matched"] += sum(1 for i in nexts if song[i] < n_songs)
        counts["logged_out"] += sum(1 for f in flags if f & (F_OUT | F_GUEST))
        counts["level_changes"] += sum(1 for p in page if p in (P_SUB_UP, P_SUB_DOWN))
        if shapes is not None and any(shapes):
            added = add_rare_shapes(path, day, shapes, seed)
            totals = counts.setdefault("shapes", dict.fromkeys(added, 0))
            for name, n in added.items():
                totals[name] += n
        day = date.fromordinal(day.toordinal() + 1)
    return counts


class RareShapes(NamedTuple):
    """Real-world shapes the plain generator never writes, added to each day's file on request.

    Each number is how many of that shape a day gets (0 = none, the default: without shapes the
    output is byte-identical to before). They exercise the README's data rules in tests:
    logged_out_nextsong  NextSong events with userId "" (not songplays);
    duplicates           NextSong lines repeated verbatim (at-least-once delivery: one songplay);
    conflicting          copies of a NextSong line with the same identity but another level;
    late_events          events whose ts lies on the previous day (loaded in this file's day);
    blank_lines          whitespace-only lines between records (neither loaded nor rejected).
    """

    logged_out_nextsong: int = 0
    duplicates: int = 0
    conflicting: int = 0
    late_events: int = 0
    blank_lines: int = 0


def add_rare_shapes(path: Path, day: date, shapes: RareShapes, seed: int) -> dict:
    """Rewrite one generated day file with the requested shapes; returns how many of each it holds."""
    rng = Random(f"{seed}:shapes:{day.isoformat()}")
    lines = path.read_text(encoding="ascii").split("\n")
    records = [json.loads(line) for line in lines]
    nexts = [r for r in records if r["page"] == "NextSong" and r["userId"]]
    extra: list[str] = []
    for r in rng.sample(nexts, min(shapes.logged_out_nextsong, len(nexts))):
        extra.append(json.dumps({**r, "userId": "", "auth": "Logged Out", "firstName": None, "lastName": None,
                                 "gender": None, "registration": None, "itemInSession": r["itemInSession"] + 10_000}))
    for r in rng.sample(nexts, min(shapes.duplicates, len(nexts))):
        extra.append(json.dumps(r))
    for r in rng.sample(nexts, min(shapes.conflicting, len(nexts))):
        extra.append(json.dumps({**r, "level": "free" if r["level"] == "paid" else "paid"}))
    day_start_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    for i, r in enumerate(rng.sample(nexts, min(shapes.late_events, len(nexts)))):
        late = {"ts": day_start_ms - 1000 * (i + 1), "itemInSession": r["itemInSession"] + 20_000}
        extra.append(json.dumps({**r, **late}))
    for line in extra:
        lines.insert(rng.randrange(len(lines) + 1), line)
    for _ in range(shapes.blank_lines):
        lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(["", "  ", "\t", " \r"]))
    path.write_text("\n".join(lines), encoding="ascii", newline="\n")
    return {"logged_out_nextsong": min(shapes.logged_out_nextsong, len(nexts)),
            "duplicates": min(shapes.duplicates, len(nexts)), "conflicting": min(shapes.conflicting, len(nexts)),
            "late_events": min(shapes.late_events, len(nexts)), "blank_lines": shapes.blank_lines}


def main(argv: list[str] | None = None) -> dict:
    """CLI entry point; prints a one-line summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2018, 11, 1))
    ap.add_argument("--end", type=date.fromisoformat, default=date(2018, 11, 30))
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--events-per-day", type=int, default=300)
    ap.add_argument("--songs", type=int, default=80)
    ap.add_argument("--match-share", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    for name in RareShapes._fields:
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=0, metavar="N",
                        help=f"per day: {name.replace('_', ' ')} (RareShapes)")
    ap.add_argument("--events-partition-prefix", default=DEFAULT_EVENTS_PARTITION_PREFIX, metavar="TEMPLATE",
                    help="the events' layout, as config.json's source.events_partition_prefix "
                         "(default: the Udacity layout)")
    a = ap.parse_args(argv)
    if a.end < a.start:
        ap.error("--end must not be before --start")
    try:
        partition_layout(a.events_partition_prefix, EVENTS_PREFIX)
    except ValueError as exc:
        ap.error(str(exc))
    t0 = time.perf_counter()
    shapes = RareShapes(*(getattr(a, name) for name in RareShapes._fields))
    c = generate(a.out, a.start, a.end, a.users, a.events_per_day, a.songs, a.match_share, a.seed, shapes,
                 a.events_partition_prefix)
    print(f"wrote {c['log_files']} log files ({c['events']} events, {c['nextsong']} NextSong, "
          f"{c['nextsong_matched']} matched) + {c['song_files']} song files to {a.out} "
          f"in {time.perf_counter() - t0:.2f}s")
    return c


if __name__ == "__main__":
    main()
