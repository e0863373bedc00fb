"""The raw record schemas of the two sources, declared once: log events and song records.

Each field says how a JSON key becomes a staging column: its column name, kind, whether it is
required, its VARCHAR length and the bounds the transform needs. Everything else is derived
from these two tuples: the parser's typed msgspec Struct and field checks (sparkify.parsing),
the COPY column lists, the Redshift JSONPaths (sparkify.warehouse.redshift_sql), and a unit test
compares them with sql/ddl/staging_events.sql and staging_songs.sql so the DDL cannot drift.
Adding a source field is one line here plus its column in the DDL file.
"""

from __future__ import annotations

from typing import NamedTuple

#: Kinds of field and the staging column type each is stored as.
COLUMN_TYPES: dict[str, str] = {"str": "VARCHAR", "int": "BIGINT", "int32": "INTEGER", "num": "DOUBLE PRECISION"}
#: VARCHAR length of a string field that declares none.
DEFAULT_STRING_LIMIT = 1024


class Field(NamedTuple):
    """How one JSON key of a source record becomes a staging column value.

    kind: str, int (BIGINT), int32 (INTEGER) or num (DOUBLE PRECISION). max_length: the
    column's VARCHAR length (str only). low/high: inclusive bounds for numbers, where the column
    type alone would let through values the transform cannot load (the songplays match casts
    durations to NUMERIC(18, 5); timestamps must be PostgreSQL and Redshift TIMESTAMPs).
    """

    json: str
    column: str
    kind: str
    required: bool = False
    max_length: int = DEFAULT_STRING_LIMIT
    low: float | None = None
    high: float | None = None


#: Durations in seconds (event length, song duration): longer than 11 days is an outlier.
DURATION_RANGE = (0.0, 1_000_000.0)
#: Event time in epoch milliseconds: 1970-01-01 .. 9999-12-31 23:59:59.999 UTC.
TS_RANGE = (0, 253_402_300_799_999)

EVENT_FIELDS: tuple[Field, ...] = (
    Field("artist", "artist", "str"),
    Field("auth", "auth", "str", max_length=32),
    Field("firstName", "first_name", "str", max_length=256),
    Field("gender", "gender", "str", max_length=8),
    Field("itemInSession", "item_in_session", "int32"),
    Field("lastName", "last_name", "str", max_length=256),
    Field("length", "length", "num", False, DEFAULT_STRING_LIMIT, *DURATION_RANGE),
    Field("level", "level", "str", max_length=16),
    Field("location", "location", "str"),
    Field("method", "method", "str", max_length=16),
    Field("page", "page", "str", required=True, max_length=64),
    Field("registration", "registration", "num"),
    Field("sessionId", "session_id", "int32"),
    Field("song", "song", "str"),
    Field("status", "status", "int32"),
    Field("ts", "ts", "int", True, DEFAULT_STRING_LIMIT, *TS_RANGE),
    Field("userAgent", "user_agent", "str"),
    Field("userId", "user_id", "str", required=True, max_length=64),
)
SONG_FIELDS: tuple[Field, ...] = (
    Field("num_songs", "num_songs", "int32"),
    Field("artist_id", "artist_id", "str", required=True, max_length=32),
    Field("artist_latitude", "artist_latitude", "num", low=-90.0, high=90.0),
    Field("artist_longitude", "artist_longitude", "num", low=-180.0, high=180.0),
    Field("artist_location", "artist_location", "str"),
    Field("artist_name", "artist_name", "str", required=True),
    Field("song_id", "song_id", "str", required=True, max_length=32),
    Field("title", "title", "str", required=True),
    Field("duration", "duration", "num", False, DEFAULT_STRING_LIMIT, *DURATION_RANGE),
    Field("year", "year", "int32", low=0, high=9999),
)
#: A songplay is identified by (userId, sessionId, itemInSession, ts): a NextSong event of a
#: logged-in user without one of them could not get a songplay_id, so it is rejected at staging.
SONGPLAY_IDENTITY: tuple[str, ...] = ("userId", "sessionId", "itemInSession", "ts")

#: Where a staged row came from: object key and 1-based line number within it.
LINEAGE_COLUMNS: tuple[str, ...] = ("source_key", "line_number")
#: The column of staging_events (and rejected_lines) holding a record's partition key (YYYY-MM-DD).
PARTITION_COLUMN = "partition_key"
#: Columns of staging_events before and after the source fields.
EVENT_LINEAGE_COLUMNS: tuple[str, ...] = (PARTITION_COLUMN, *LINEAGE_COLUMNS, "record_in_line")
#: Mojibake-repaired copies of artist and song, used for matching (the raw ones stay for lineage).
EVENT_DERIVED_COLUMNS: tuple[str, ...] = ("artist_clean", "song_clean")

EVENT_COLUMNS: tuple[str, ...] = (
    *EVENT_LINEAGE_COLUMNS,
    *(field.column for field in EVENT_FIELDS),
    *EVENT_DERIVED_COLUMNS,
)
SONG_COLUMNS: tuple[str, ...] = (*LINEAGE_COLUMNS, *(field.column for field in SONG_FIELDS))
#: staging_songs column numbering the song-staging batch that wrote (or touched) a row; set by the
#: warehouse when it stores a batch (sparkify.warehouse.base.SongCatalogueChanges), not by the parser.
LOAD_SEQ_COLUMN = "load_seq"
#: Columns of staging_songs: the parsed record, then its batch.
SONG_TABLE_COLUMNS: tuple[str, ...] = (*SONG_COLUMNS, LOAD_SEQ_COLUMN)
