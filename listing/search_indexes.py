"""The text columns that list searches match by substring, and the trigram indexes that serve them.

Chinese has no spaces, so a word index (tsvector) would need a segmenter the database lacks (no zhparser,
pg_bigm or PGroonga is packaged for Debian 12). pg_trgm ships with PostgreSQL and, in a UTF-8 database,
splits CJK text into three-character trigrams like any other: a GIN index with ``gin_trgm_ops`` then
serves ``ILIKE '%…%'`` (Django's ``icontains``) directly, with no change to the queries. A term of one or
two characters yields no whole trigram and the index cannot narrow it; such searches stay bounded by
the jurisdiction filter, which always comes first. SQLite (the embedded default) has no such index and
keeps the plain LIKE scan.
"""

# (app label, model name, column) for every column a list search matches with icontains.
TRIGRAM_COLUMNS = [
    ("flows", "Matter", "title"),
    ("flows", "StepRecord", "opinion"),
    ("flows", "AssetPurchase", "reason"),
    ("flows", "AssetPurchase", "chosen_supplier"),
    ("flows", "Quotation", "supplier"),
    ("flows", "FundDisbursement", "payee"),
    ("flows", "ResourceContracting", "contractor"),
    ("flows", "Leasing", "lessee"),
    ("flows", "Disposal", "reason"),
    ("flows", "Disposal", "counterparty"),
    ("flows", "MemberCandidate", "name"),
    ("registers", "Member", "name"),
    ("auth", "User", "first_name"),
    ("auth", "User", "last_name"),
]


def index_name(table: str, column: str) -> str:
    return f"trgm_{table}_{column}"[:63]
