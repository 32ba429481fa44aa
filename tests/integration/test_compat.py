# SPDX-License-Identifier: MIT
"""Compatibility: a shop (customers, products, orders, order lines) in a database with an ICU
collation, and a few hundred queries of the kinds applications send, each run through sqledge
and straight at the upstream, in the simple protocol and (a subset) the extended one. Every
answer must be the upstream's: RowDescription and DataRows byte for byte (rows in order when
the query orders them totally, else as multisets), command tags, errors (SQLSTATE and message).
The counters tell which answers came from the local copy; the share is printed and must not
drop below MIN_LOCAL_SHARE.

Rules for the queries (check_queries() enforces the second and the third): a query with a
top-level ORDER BY must order its rows totally (tie-breakers such as `, id`); LIMIT, OFFSET and
FETCH only with such an ORDER BY; now(), current_date and the like only in filters, never as
output (two servers read the clock a few microseconds apart); aggregates that depend on the
order of their input (string_agg, array_agg, json_agg) name it; floats only where every sum is
exact. Queries meant to fail are in ERRORS; any other query PostgreSQL rejects fails the test.

Run with -s to see the summary and the forwarded queries:
    /usr/bin/python3 -m pytest -q -s tests/integration/test_compat.py"""

import collections
import datetime
import decimal
import difflib
import random
import re
import struct
import unicodedata

import psycopg2.extras
import pytest
from psycopg2 import sql as pgsql

import harness
import pgproto
from test_local import counters, raw_answer, raw_direct, raw_proxy
from test_proxy import psql

# The share of queries answered from the local copy below which the test fails: the level
# reached, so that a translation that stops applying shows here.
MIN_LOCAL_SHARE = 0.90
MIN_QUERIES = 300
SEED = 20240229
# the settings both sessions start with
SESSION_SETTINGS = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, MDY'",
                    "SET IntervalStyle = 'postgres'", "SET extra_float_digits = 1",
                    "SET bytea_output = 'hex'")
MAX_DIFF_LINES = 60  # of each mismatch report

# ---------------------------------------------------------------------------------------------
# the shop

SCHEMA = """
CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text UNIQUE,
    city text,
    country char(2),
    vip boolean NOT NULL DEFAULT false,
    credit_limit numeric(12,4),
    birth_date date,
    signed_up_at timestamptz NOT NULL,
    tags text[],
    prefs jsonb
);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku varchar(16) NOT NULL UNIQUE,
    name text NOT NULL UNIQUE,
    category text,
    price numeric(10,2) NOT NULL,
    cost numeric(12,4),
    weight_g integer,
    stock smallint NOT NULL,
    active boolean NOT NULL,
    rating float8,
    attrs jsonb,
    tags text[],
    created_at timestamptz NOT NULL
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers,
    status text NOT NULL,
    placed_at timestamptz NOT NULL,
    shipped_at timestamptz,
    delivery_date date,
    discount numeric(5,2),
    coupon varchar(12),
    note text,
    total numeric(12,2),
    meta json
);
CREATE TABLE order_lines (
    id serial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders,
    line_no smallint NOT NULL,
    product_id integer NOT NULL REFERENCES products,
    quantity integer NOT NULL,
    unit_price numeric(10,2) NOT NULL,
    discount_pct numeric(5,2),
    UNIQUE (order_id, line_no)
);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (placed_at);
CREATE INDEX ON order_lines (product_id);
CREATE INDEX ON products (category);
"""

# names whose ICU (en-US) order differs from byte order: case mixes, accents, a decomposed
# "Zoë Müller", ß, letters of other scripts, punctuation and digits; "Ana" twice
CUSTOMER_NAMES = [
    "Ana García", "ana garcía", "Ana", "Anders Ångström", "Ångström AB", "angstrom labs",
    "Émile Zola", "émile", "Emile Durand", "Éloïse Martin", "Eloise Martin", "Zoë Müller",
    "Zoe\u0308 Mu\u0308ller", "zoë", "Zoe Miller", "zed", "Zed", "ZED", "Zürich Trading", "ß",
    "Straße GmbH", "Strasse & Co", "Strauß", "Ørsted Energy", "Øystein", "Ölmez", "O'Brien",
    "Oliver", "Łukasz Nowak", "Lukas Novak", "Çelik", "Celik", "Núñez", "Nunez", "Noël", "Noel",
    "côte", "cote", "coté", "côté", "van der Berg", "Van Der Berg", "MacDonald", "McDonald",
    "Mc Donald", "山田太郎", "Алексей Иванов", "Ωmega Ltd", "_internal", "10 Downing",
    "2nd Street Shop", "Bob", "bob", "BOB", "Ana",
]
CITIES = ["Paris", "paris", "Lyon", "Berlin", "München", "Munich", "Zürich", "zurich", "Malmö",
          "Łódź", "São Paulo", "New York", "Ōsaka", "Århus", "Aarhus", "Oslo", "", None, None]
COUNTRIES = ["FR", "DE", "CH", "SE", "PL", "BR", "US", "JP", "DK", "NO", None]
DOMAINS = ["example.com", "Example.COM", "mail.test", "shop.example"]
CUSTOMER_TAGS = ["vip", "newsletter", "b2b", "returning", "Ünicode", "fraud-check"]
LANGS = ["fr", "de", "en", "sv", "pl", "pt-BR"]
PRODUCT_NAMES = [
    "Crème brûlée set", "Creme brulee torch", "café filter", "Café Mug", "cafe mug large",
    "Éclair mould", "eclair tray", "Äpfelwein glass", "Apfel peeler", "Zebra pen",
    "zebra pen XL", "Ölkanne", "Ørsted lamp", "straw hat", "Straße sign", "Strasse map",
    "ß-hook", "Ångström ruler", "Notebook A5", "notebook a4", "Pen 0.5mm", "pen refill",
    "Garden hose 20m", "garden gloves", "Hammer", "hammer (small)", "Screwdriver set",
    "Über-tape", "Über tape", "Yarn ball", "Zip ties (100)",
]
CATEGORIES = ["Kitchen", "kitchen", "Office", "office", "Garden", "Tools", "Décor", None]
COLORS = ["red", "blue", "Green", "grün", "black"]
PRODUCT_TAGS = ["sale", "new", "eco", "bestseller", "Ünique"]
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
NOTES = ["  leave at door  ", "Gift — wrap please 🎁", "10% off promised",
         "Ruf mich an: +49 30 123", "L'entrée côté cour", "call_before", "", "URGENT"]
COUPONS = ["WELCOME10", "BF2024", "summer", "Été-24"]
EPOCH = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
THREE_YEARS = 3 * 365 * 86400


def slug(name):
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", folded.lower()).strip(".") or "x"


def moment(rng, start=EPOCH, span=THREE_YEARS):
    """A timestamptz in [start, start + span s), mostly with microseconds."""
    micro = rng.randrange(1000000) if rng.random() < 0.8 else 0
    return start + datetime.timedelta(seconds=rng.randrange(span), microseconds=micro)


def money(rng, low, high, places=2):
    unit = 10 ** places
    return decimal.Decimal(rng.randrange(low * unit, high * unit)) / unit


def make_data(seed=SEED):
    """The shop's rows, the same for a seed: {table: [row tuples in column order]}."""
    rng = random.Random(seed)
    customers = []
    for i, name in enumerate(CUSTOMER_NAMES, 1):
        email = None
        if rng.random() < 0.88:
            email = "%s.%d@%s" % (slug(name), i, rng.choice(DOMAINS))
            if i % 9 == 0:
                email = email.capitalize()
        prefs = None
        if rng.random() < 0.8:
            prefs = {"lang": rng.choice(LANGS), "newsletter": rng.random() < 0.5}
            if rng.random() < 0.5:
                prefs["theme"] = rng.choice(["dark", "light", None])
            if rng.random() < 0.5:
                prefs["score"] = rng.choice([7, 12.5, 100.25, 0, -3])
            if rng.random() < 0.3:
                prefs["address"] = {"zip": "%05d" % rng.randrange(100000),
                                    "city": rng.choice(CITIES[:10])}
        tags = None
        if rng.random() < 0.8:
            tags = rng.sample(CUSTOMER_TAGS, rng.randrange(0, 4))
        birth = None
        if rng.random() < 0.85:
            birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000))
        credit = None
        if rng.random() < 0.75:
            credit = rng.choice([money(rng, 0, 20000, 4), decimal.Decimal(1000),
                                 decimal.Decimal("2500.5")])
        customers.append((i, name, email, rng.choice(CITIES), rng.choice(COUNTRIES),
                          rng.random() < 0.3, credit, birth, moment(rng), tags,
                          psycopg2.extras.Json(prefs) if prefs is not None else None))
    # one customer born on a leap day, one with an empty tag list
    customers[3] = customers[3][:7] + (datetime.date(1984, 2, 29),) + customers[3][8:]
    customers[5] = customers[5][:9] + ([],) + customers[5][10:]

    products = []
    for i, name in enumerate(PRODUCT_NAMES, 1):
        price = rng.choice([money(rng, 1, 500), money(rng, 1, 60),
                            decimal.Decimal("10.00"), decimal.Decimal("50.50")])
        cost = None if rng.random() < 0.2 else (price * decimal.Decimal("0.6137")).quantize(
            decimal.Decimal("0.0001"))
        attrs = None
        if rng.random() < 0.85:
            attrs = {}
            if rng.random() < 0.8:
                attrs["color"] = rng.choice(COLORS)
            if rng.random() < 0.6:
                attrs["size"] = rng.choice(["S", "M", "L", "XL"])
            if rng.random() < 0.5:
                attrs["dims"] = {"w": rng.randrange(1, 100), "h": rng.randrange(1, 100)}
            if rng.random() < 0.4:
                attrs["materials"] = rng.sample(["wood", "steel", "glass", "cotton"], 2)
        tags = rng.sample(PRODUCT_TAGS, rng.randrange(1, 3)) if rng.random() < 0.7 else None
        products.append((i, "SKU-%04d" % i, name, rng.choice(CATEGORIES), price, cost,
                         rng.choice([None, rng.randrange(5, 5000)]), rng.randrange(0, 500),
                         rng.random() < 0.85,
                         rng.choice([None, rng.randrange(4, 21) / 4]),
                         psycopg2.extras.Json(attrs) if attrs is not None else None, tags,
                         moment(rng, span=2 * 365 * 86400)))

    orders, lines = [], []
    with_orders = len(customers) - 5  # the last five customers never ordered
    for i in range(1, 301):
        status = rng.choices(STATUSES, [10, 25, 20, 30, 8, 7])[0]
        placed = moment(rng)
        shipped = delivery = None
        if status in ("shipped", "delivered", "refunded"):
            shipped = placed + datetime.timedelta(seconds=rng.randrange(3600, 10 * 86400),
                                                  microseconds=rng.randrange(1000000))
            if status != "shipped":
                delivery = (shipped + datetime.timedelta(days=rng.randrange(1, 6))).date()
        discount = rng.choice([decimal.Decimal("5.00"), decimal.Decimal("12.50"),
                               decimal.Decimal("0.00")]) if rng.random() < 0.2 else None
        coupon = rng.choice(COUPONS) if rng.random() < 0.15 else None
        note = rng.choice(NOTES) if rng.random() < 0.3 else None
        orders.append((i, rng.randrange(1, with_orders + 1), status, placed, shipped, delivery,
                       discount, coupon, note))
        if i % 30 == 7:  # a draft without lines: its total stays NULL
            continue
        for n, product in enumerate(rng.sample(products, rng.randrange(1, 6)), 1):
            unit = product[4]
            if rng.random() < 0.2:
                unit = (unit * decimal.Decimal("0.9")).quantize(decimal.Decimal("0.01"))
            pct = rng.choice([decimal.Decimal(5), decimal.Decimal(10), decimal.Decimal("12.5"),
                              decimal.Decimal("33.33")]) if rng.random() < 0.2 else None
            lines.append((len(lines) + 1, i, n, product[0],
                          rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 20]), unit, pct))
    return {"customers": customers, "products": products, "orders": orders,
            "order_lines": lines}


DATA = make_data()


def fill(database):
    """Creates the schema and loads DATA (totals computed from the lines, then ANALYZE)."""
    with database.connect() as conn, conn.cursor() as cur:
        cur.execute(SCHEMA)
        for table, rows in DATA.items():
            psycopg2.extras.execute_values(
                cur, pgsql.SQL("INSERT INTO {} VALUES %s").format(
                    pgsql.Identifier(table)).as_string(cur), rows, page_size=1000)
        cur.execute("UPDATE orders o SET total = round(s.amount * (1 - coalesce(o.discount, 0) "
                    "/ 100), 2) FROM (SELECT order_id, sum(quantity * unit_price * "
                    "(1 - coalesce(discount_pct, 0) / 100)) AS amount FROM order_lines "
                    "GROUP BY order_id) s WHERE s.order_id = o.id")
        # json keeps its text as written: blanks, line breaks, duplicate keys (the last wins)
        cur.execute("UPDATE orders SET meta = (CASE id % 4 WHEN 0 THEN "
                    "'{\"source\": \"web\", \"items\" : [1, 2,  3]}' WHEN 1 THEN "
                    "'{ \"source\":\"app\" ,\"source\": \"api\", \"gift\": true }' "
                    "WHEN 2 THEN E'[\"a\",\\n \"b\\u00e9\"]' END)::json")
        for table in DATA:
            cur.execute(pgsql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                  "(SELECT max(id) FROM {}))").format(
                pgsql.Literal(table), pgsql.Identifier(table)))
        cur.execute("ANALYZE")
    conn.close()


# ---------------------------------------------------------------------------------------------
# the queries

SOME_EMAIL = next(c[2] for c in DATA["customers"][6:] if c[2])

QUERIES = [
    # what pools and frameworks send
    "SELECT 1",
    "select 1 as ok",
    "select count(*) from customers",
    # point lookups and plain lists
    "SELECT * FROM customers WHERE id = 1",
    "SELECT * FROM public.customers WHERE id = 13",
    "SELECT * FROM products WHERE id = 3",
    "SELECT * FROM orders WHERE id = 150",
    "SELECT * FROM order_lines WHERE order_id = 150 ORDER BY line_no",
    "SELECT * FROM products WHERE sku = 'SKU-0007'",
    "SELECT id, name, email FROM customers WHERE email = '%s'" % SOME_EMAIL,
    "SELECT id, name FROM customers WHERE email IS NULL ORDER BY id",
    "SELECT id, status, total FROM orders WHERE customer_id = 5 ORDER BY placed_at DESC, id DESC",
    "SELECT id FROM orders WHERE customer_id = 5 AND status = 'paid'",
    "SELECT * FROM public.orders WHERE id IN (1, 2, 3, 300)",
    "SELECT * FROM customers ORDER BY id LIMIT 5",
    "SELECT * FROM products ORDER BY id",
    "SELECT * FROM order_lines WHERE id BETWEEN 100 AND 120",
    "SELECT id, name, city, country FROM customers WHERE country = 'DE'",
    "SELECT id, placed_at, status FROM orders WHERE id >= 290 ORDER BY id",
    # ORM-style: quoted identifiers, qualified columns, aliases
    'SELECT "customers"."id", "customers"."name", "customers"."email" FROM "customers" '
    'WHERE "customers"."id" = 21',
    'SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" '
    'WHERE "orders"."customer_id" = 3 ORDER BY "orders"."placed_at" DESC, "orders"."id" DESC',
    'SELECT "products".* FROM "products" WHERE "products"."active" = TRUE '
    'ORDER BY "products"."id" ASC LIMIT 10',
    'SELECT customers_1.id AS customers_1_id, customers_1.name AS customers_1_name '
    'FROM public.customers AS customers_1 WHERE customers_1.vip ORDER BY customers_1.id',
    'SELECT COUNT(*) AS "__count" FROM "orders" WHERE "orders"."status" = \'delivered\'',
    'SELECT "order_lines"."id", "order_lines"."quantity" FROM "order_lines" '
    'INNER JOIN "orders" ON ("order_lines"."order_id" = "orders"."id") '
    'WHERE "orders"."customer_id" = 11 ORDER BY "order_lines"."id" ASC',
    'SELECT 1 AS "a" FROM "customers" WHERE "customers"."email" = \'%s\' '
    'ORDER BY "customers"."id" LIMIT 1' % SOME_EMAIL,
    'SELECT "o"."id" FROM "orders" "o" WHERE "o"."placed_at" >= \'2024-01-01T00:00:00+00:00\' '
    'AND "o"."placed_at" < \'2024-02-01T00:00:00+00:00\' ORDER BY "o"."id"',
    # casts
    "SELECT id, price::text, price::int, price::bigint, CAST(price AS numeric(8,1)) FROM products "
    "ORDER BY id",
    "SELECT id, placed_at::date AS day, CAST(placed_at AS time) AS at FROM orders "
    "WHERE id <= 20 ORDER BY id",
    "SELECT id, total::float8 FROM orders WHERE id % 50 = 0 ORDER BY id",
    "SELECT id::text || ':' || status FROM orders WHERE id < 10",
    "SELECT '2024-01-01'::date + 30 AS d, CAST('2024-02-28' AS date) + 1 AS leap",
    "SELECT id, quantity::numeric / 3 AS third, quantity / 3.0 AS also FROM order_lines "
    "WHERE id <= 10 ORDER BY id",
    "SELECT id, weight_g::float8 / 1000 AS kg FROM products WHERE weight_g IS NOT NULL",
    "SELECT CAST(id AS text) FROM customers WHERE CAST(id AS text) LIKE '1%'",
    "SELECT id FROM orders WHERE placed_at::date = '%s'" % DATA["orders"][41][3].date(),
    "SELECT id, vip::int, vip::text FROM customers ORDER BY id",
    "SELECT id, credit_limit::numeric(10,2), credit_limit::text FROM customers "
    "WHERE credit_limit IS NOT NULL ORDER BY id",
    "SELECT id, country, country::text, length(country), country || '!' FROM customers "
    "ORDER BY id",
    "SELECT id, '42'::int + id AS n FROM products WHERE id < 4",
    "SELECT id, extract(epoch FROM placed_at)::bigint AS unix FROM orders WHERE id <= 5",
    "SELECT id, to_char(placed_at, 'YYYY-MM-DD HH24:MI') FROM orders WHERE id <= 10 ORDER BY id",
    "SELECT id, sku::text, name::varchar(10) FROM products WHERE id <= 5",
    "SELECT id, price * 1.2 AS gross, round(price * 1.2, 2), trunc(price), ceil(price), "
    "floor(price), abs(-price) FROM products ORDER BY id",
    "SELECT round(avg(price), 2), round(sum(cost), 1) FROM products",
    "SELECT id, stock::int8 * 1000000000 AS big, stock::numeric(8,3) FROM products "
    "WHERE id <= 8",
    "SELECT id, line_no, line_no + 1, line_no * 2::smallint FROM order_lines "
    "WHERE order_id = 12 ORDER BY line_no",
    "SELECT id, birth_date::timestamptz, birth_date::text FROM customers "
    "WHERE birth_date IS NOT NULL ORDER BY id LIMIT 8",
    # LIKE and ILIKE
    "SELECT id, name FROM customers WHERE name LIKE 'A%'",
    "SELECT id, name FROM customers WHERE name ILIKE 'a%' ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name ILIKE '%é%'",
    "SELECT id, name FROM customers WHERE name ILIKE 'émile%' ORDER BY id",
    "SELECT id, email FROM customers WHERE email LIKE '%@example.com'",
    "SELECT id, email FROM customers WHERE email ILIKE '%@EXAMPLE.COM' ORDER BY id",
    "SELECT id, sku FROM products WHERE sku LIKE 'SKU-000_' ORDER BY sku",
    "SELECT id FROM products WHERE name NOT LIKE '%a%'",
    "SELECT id, name FROM products WHERE name NOT ILIKE '%mug%' ORDER BY id",
    "SELECT id, note FROM orders WHERE note LIKE '%\\%%' ORDER BY id",
    "SELECT id, name FROM customers WHERE name LIKE '\\_%'",
    "SELECT id FROM customers WHERE city ILIKE 'zürich' OR city ILIKE 'ZURICH' ORDER BY id",
    "SELECT id, name FROM customers WHERE lower(name) LIKE 'zo%' ORDER BY id",
    "SELECT count(*) FROM customers WHERE name ILIKE '%ss%'",
    "SELECT count(*) FROM customers WHERE name ILIKE '%ß%'",
    "SELECT id, name FROM customers WHERE name LIKE '%' ORDER BY id",
    "SELECT name FROM products WHERE category LIKE 'K%' ORDER BY name",
    "SELECT id, name FROM products WHERE name ILIKE '%über%' OR name ILIKE 'ÖL%' ORDER BY id",
    "SELECT id, coupon FROM orders WHERE coupon ILIKE 'été%' OR coupon LIKE 'BF%' ORDER BY id",
    "SELECT id FROM customers WHERE email NOT LIKE '%.com' ORDER BY id",
    "SELECT id, name FROM customers WHERE name LIKE 'Mc%' OR name LIKE 'Mac%' ORDER BY name, id",
    # booleans
    "SELECT id, name FROM customers WHERE vip ORDER BY id",
    "SELECT id FROM customers WHERE NOT vip",
    "SELECT id FROM customers WHERE vip = true AND country = 'FR'",
    "SELECT id FROM customers WHERE vip IS FALSE ORDER BY id",
    "SELECT id, active FROM products WHERE active IS NOT TRUE ORDER BY id",
    "SELECT id, vip, vip AND credit_limit > 1000 AS big_vip, vip OR credit_limit > 1000 "
    "FROM customers ORDER BY id",
    "SELECT id, (discount IS NOT NULL) AS discounted FROM orders WHERE id <= 15 ORDER BY id",
    "SELECT bool_and(active), bool_or(active), every(stock > 0) FROM products",
    "SELECT category, bool_or(active) FROM products GROUP BY category",
    "SELECT id FROM products WHERE active <> false AND price < 20",
    "SELECT id, price > 100 AS expensive, NOT active AS retired FROM products ORDER BY id",
    "SELECT id, (prefs->>'newsletter')::boolean IS TRUE AS subscribed FROM customers "
    "ORDER BY id",
    # now(), current_timestamp, current_date in filters
    "SELECT count(*) FROM orders WHERE placed_at > now() - interval '30 days'",
    "SELECT count(*) FROM orders WHERE placed_at > now() - interval '3 years'",
    "SELECT id FROM orders WHERE placed_at < current_timestamp - interval '1 year' "
    "AND status = 'pending' ORDER BY id",
    "SELECT id, name FROM customers WHERE birth_date < current_date - interval '40 years' "
    "ORDER BY birth_date, id",
    "SELECT count(*) FROM orders WHERE delivery_date <= current_date",
    "SELECT count(*) FROM customers WHERE signed_up_at >= date_trunc('year', now()) "
    "- interval '3 years'",
    "SELECT id FROM orders WHERE shipped_at IS NULL AND placed_at < now() - interval '7 days' "
    "ORDER BY placed_at, id",
    "SELECT status, count(*) FROM orders WHERE placed_at BETWEEN now() - interval '5 years' "
    "AND now() GROUP BY status",
    "SELECT id FROM customers WHERE extract(year FROM age(current_date, birth_date)) >= 60 "
    "ORDER BY id",
    "SELECT count(*) FROM products WHERE created_at < LOCALTIMESTAMP",
    "SELECT id FROM orders WHERE placed_at > now() - '1000 days'::interval ORDER BY id",
    "SELECT count(*) FROM orders WHERE delivery_date > current_date - 1000",
    "SELECT count(*) FROM customers WHERE signed_up_at < CURRENT_TIMESTAMP(0) "
    "AND birth_date < CURRENT_DATE",
    # date_trunc, extract, interval arithmetic
    "SELECT date_trunc('month', placed_at) AS month, count(*) FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT date_trunc('week', placed_at)::date AS week, sum(total) FROM orders GROUP BY 1 "
    "ORDER BY 1",
    "SELECT extract(year FROM placed_at) AS y, count(*) FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT extract(dow FROM placed_at) AS dow, count(*) FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT extract(month FROM birth_date) AS m, count(*) FROM customers GROUP BY 1 "
    "ORDER BY 1 NULLS FIRST",
    "SELECT id, shipped_at - placed_at AS took FROM orders WHERE shipped_at IS NOT NULL "
    "ORDER BY took DESC, id LIMIT 10",
    "SELECT id, extract(epoch FROM shipped_at - placed_at) AS secs FROM orders "
    "WHERE shipped_at IS NOT NULL AND id < 60 ORDER BY id",
    "SELECT id, placed_at + interval '14 days' AS due FROM orders WHERE id <= 10 ORDER BY id",
    "SELECT id, placed_at + interval '1 month' AS next, placed_at - interval '1 hour 30 minutes' "
    "FROM orders WHERE id % 25 = 0 ORDER BY id",
    "SELECT id, delivery_date - placed_at::date AS days FROM orders "
    "WHERE delivery_date IS NOT NULL ORDER BY id LIMIT 20",
    "SELECT id, delivery_date + 7 AS late, delivery_date - interval '1 day' FROM orders "
    "WHERE delivery_date IS NOT NULL AND id < 40 ORDER BY id",
    "SELECT date_part('hour', placed_at) AS h, count(*) FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT id, age(shipped_at, placed_at) FROM orders WHERE shipped_at IS NOT NULL "
    "ORDER BY id LIMIT 10",
    "SELECT to_char(date_trunc('month', placed_at), 'YYYY-MM') AS m, sum(total) FROM orders "
    "WHERE status <> 'cancelled' GROUP BY 1 ORDER BY 1",
    "SELECT id, date_trunc('day', signed_up_at) AS d FROM customers ORDER BY d, id",
    "SELECT extract(isodow FROM delivery_date), extract(week FROM delivery_date) FROM orders "
    "WHERE id <= 30 AND delivery_date IS NOT NULL",
    "SELECT id, placed_at AT TIME ZONE 'Europe/Paris' AS paris FROM orders WHERE id <= 10 "
    "ORDER BY id",
    "SELECT id, (placed_at AT TIME ZONE 'America/New_York')::date FROM orders WHERE id <= 10 "
    "ORDER BY id",
    "SELECT id, birth_date, date_trunc('year', birth_date)::date FROM customers "
    "WHERE birth_date IS NOT NULL ORDER BY id LIMIT 5",
    "SELECT id, interval '1 day' * quantity AS span FROM order_lines WHERE id <= 5",
    "SELECT count(*) FROM orders WHERE placed_at >= '2024-01-01' AND placed_at < '2025-01-01'",
    "SELECT count(*) FROM orders WHERE placed_at >= '2024-01-01 00:00:00+01'",
    "SELECT id, placed_at FROM orders WHERE placed_at::date BETWEEN '2024-06-01' "
    "AND '2024-06-30' ORDER BY placed_at, id",
    "SELECT extract(quarter FROM placed_at) AS q, extract(year FROM placed_at) AS y, count(*) "
    "FROM orders GROUP BY y, q ORDER BY y, q",
    "SELECT id, extract(hour FROM placed_at), extract(minute FROM placed_at), "
    "extract(second FROM placed_at) FROM orders WHERE id <= 12 ORDER BY id",
    "SELECT id, date_trunc('hour', placed_at), date_trunc('minute', shipped_at) FROM orders "
    "WHERE id BETWEEN 40 AND 50 ORDER BY id",
    "SELECT id, birth_date + interval '18 years' AS adult FROM customers "
    "WHERE birth_date IS NOT NULL ORDER BY id",
    # coalesce, nullif, greatest, least, CASE
    "SELECT id, coalesce(email, '(no email)') FROM customers ORDER BY id",
    "SELECT id, coalesce(discount, 0) AS discount FROM orders WHERE id <= 20 ORDER BY id",
    "SELECT id, nullif(note, '') FROM orders WHERE note IS NOT NULL ORDER BY id",
    "SELECT id, coalesce(nullif(city, ''), 'unknown') FROM customers ORDER BY id",
    "SELECT id, greatest(price, 10), least(price, 10) FROM products ORDER BY id",
    "SELECT id, greatest(placed_at, shipped_at), least(shipped_at, placed_at) FROM orders "
    "WHERE id <= 20 ORDER BY id",
    "SELECT id, least(quantity, 5), greatest(quantity, 3) FROM order_lines WHERE order_id = 10 "
    "ORDER BY id",
    "SELECT id, CASE WHEN total >= 500 THEN 'large' WHEN total >= 100 THEN 'medium' "
    "ELSE 'small' END AS size FROM orders ORDER BY id LIMIT 30",
    "SELECT CASE status WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 ELSE 0 END AS s, count(*) "
    "FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT id, CASE WHEN vip THEN 'VIP' END FROM customers ORDER BY id",
    "SELECT sum(CASE WHEN status = 'refunded' THEN total ELSE 0 END) FROM orders",
    "SELECT id, coalesce(prefs->>'lang', 'en') FROM customers ORDER BY id",
    "SELECT id, coalesce(shipped_at, placed_at) FROM orders WHERE id <= 10 ORDER BY id",
    "SELECT id, greatest(coalesce(discount, 0), 5.5) FROM orders WHERE id <= 30 ORDER BY id",
    "SELECT id, CASE WHEN birth_date IS NULL THEN NULL WHEN birth_date < '1970-01-01' "
    "THEN 'senior' ELSE 'younger' END AS bracket FROM customers ORDER BY id",
    "SELECT id, coalesce(weight_g, 0) + coalesce(stock, 0) FROM products ORDER BY id",
    "SELECT id, nullif(quantity, 1) FROM order_lines WHERE order_id < 6 ORDER BY id",
    "SELECT id, CASE WHEN rating IS NULL THEN 'unrated' WHEN rating >= 4 THEN 'good' "
    "ELSE 'meh' END FROM products ORDER BY id",
    "SELECT sum(CASE WHEN vip THEN 1 ELSE 0 END) AS vips, count(*) FROM customers",
    # strings
    "SELECT id, name || ' <' || coalesce(email, '?') || '>' FROM customers ORDER BY id",
    "SELECT id, concat(name, ' (', city, ')') FROM customers ORDER BY id",
    "SELECT concat_ws(', ', name, city, country) FROM customers WHERE id <= 10",
    "SELECT id, length(name), char_length(name), octet_length(name) FROM customers ORDER BY id",
    "SELECT id, lower(name), upper(name) FROM customers ORDER BY id",
    "SELECT id, initcap(name) FROM customers ORDER BY id",
    "SELECT id, substring(name from 1 for 3), substr(name, 2, 2), substring(name, 4) "
    "FROM customers ORDER BY id",
    "SELECT id, position('@' in email), strpos(email, '.') FROM customers "
    "WHERE email IS NOT NULL ORDER BY id",
    "SELECT id, left(name, 1), right(name, 2) FROM customers ORDER BY id",
    "SELECT id, left(sku, -2), right(sku, -4) FROM products ORDER BY id",
    "SELECT id, trim(note), ltrim(note), rtrim(note), '[' || note || ']' FROM orders "
    "WHERE note IS NOT NULL ORDER BY id",
    "SELECT id, btrim(sku, 'SKU-'), trim(both '0' from substring(sku from 5)) FROM products "
    "ORDER BY id",
    "SELECT id, replace(name, ' ', '_') FROM products ORDER BY id",
    "SELECT id, split_part(email, '@', 2) AS domain FROM customers WHERE email IS NOT NULL "
    "ORDER BY id",
    "SELECT split_part(email, '@', 2) AS domain, count(*) FROM customers GROUP BY 1 "
    "ORDER BY 2 DESC, 1",
    "SELECT lower(split_part(email, '@', 2)) AS domain, count(*) FROM customers GROUP BY 1 "
    "ORDER BY 1 NULLS FIRST",
    "SELECT id, lpad(id::text, 6, '0'), rpad(sku, 12, '.') FROM products ORDER BY id",
    "SELECT id, reverse(name) FROM customers WHERE id <= 15 ORDER BY id",
    "SELECT id, format('%s x %s', quantity, unit_price) FROM order_lines WHERE order_id = 3 "
    "ORDER BY id",
    "SELECT id, md5(coalesce(email, '')) FROM customers ORDER BY id",
    "SELECT id, repeat('*', quantity) FROM order_lines WHERE id <= 10 ORDER BY id",
    "SELECT id, upper(left(name, 1)) || lower(substring(name from 2)) FROM customers ORDER BY id",
    "SELECT id, translate(sku, '-0', '_o') FROM products ORDER BY id",
    "SELECT id, name FROM customers WHERE length(name) > 10 ORDER BY length(name) DESC, id",
    "SELECT id, starts_with(name, 'Z') FROM customers",
    "SELECT string_agg(name, ', ' ORDER BY name, id) FROM customers WHERE country = 'DE'",
    "SELECT id, name FROM customers WHERE upper(name) = 'ZED' ORDER BY id",
    "SELECT id, name FROM customers WHERE lower(email) = lower('%s')" % SOME_EMAIL.upper(),
    "SELECT id, substring(sku from 5)::int AS n FROM products ORDER BY n",
    "SELECT id, length(coalesce(note, '')) FROM orders WHERE id <= 40 ORDER BY id",
    "SELECT id, ascii(name), chr(65 + id % 26) FROM customers ORDER BY id",
    "SELECT left(name, 1) AS initial, count(*) FROM customers GROUP BY 1 ORDER BY 1",
    "SELECT id, name || ' ' || coalesce(city, '') || ' ' || vip FROM customers WHERE id < 12",
    "SELECT id, 'SKU: ' || sku || ', ' || price || ' EUR' FROM products ORDER BY id",
    "SELECT id, concat('#', id, '-', status, '-', total) FROM orders WHERE id <= 10",
    "SELECT id, upper(city), lower(city) FROM customers WHERE city IS NOT NULL ORDER BY id",
    # integer division, modulo, arithmetic
    "SELECT id, quantity / 3, quantity % 3 FROM order_lines WHERE order_id <= 5 ORDER BY id",
    "SELECT id / 10 AS bucket, count(*) FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT id, -quantity / 4, -quantity % 4, quantity / -4 FROM order_lines WHERE id <= 12 "
    "ORDER BY id",
    "SELECT id % 7 AS r, count(*) FROM customers GROUP BY 1 ORDER BY 1",
    "SELECT id, quantity * unit_price AS amount FROM order_lines WHERE order_id = 8 ORDER BY id",
    "SELECT id, unit_price * (1 - coalesce(discount_pct, 0) / 100) AS net FROM order_lines "
    "WHERE id <= 10 ORDER BY id",
    "SELECT id, round(unit_price * quantity * (100 - coalesce(discount_pct, 0)) / 100, 2) "
    "FROM order_lines WHERE order_id BETWEEN 20 AND 30 ORDER BY id",
    "SELECT 7 / 2, 7 % 2, 7.0 / 2, -7 / 2, 2 ^ 10, 7 % -3",
    "SELECT id, weight_g / 1000 AS kg, weight_g % 1000 AS g FROM products "
    "WHERE weight_g IS NOT NULL ORDER BY id",
    "SELECT id, div(weight_g, 7), mod(weight_g, 7) FROM products ORDER BY id",
    "SELECT id, (id * 37) % 11 FROM orders WHERE id <= 20 ORDER BY 2, 1",
    "SELECT sum(quantity) / count(*) AS int_avg, sum(quantity) % count(*) FROM order_lines",
    "SELECT id, cost / nullif(price, 0) AS ratio FROM products ORDER BY id",
    "SELECT id, price - cost AS margin FROM products ORDER BY margin DESC NULLS LAST, id",
    "SELECT id, abs(credit_limit - 1000), sign(credit_limit - 1000) FROM customers ORDER BY id",
    "SELECT id, stock / 10 * 10 AS rounded_down, stock % 10 FROM products ORDER BY id",
    "SELECT id, mod(id, 4), id::numeric % 3.5 FROM orders WHERE id <= 9 ORDER BY id",
    "SELECT order_id, sum(quantity) / count(*), sum(quantity)::numeric / count(*) FROM "
    "order_lines WHERE order_id <= 10 GROUP BY order_id ORDER BY order_id",
    # aggregates
    "SELECT count(*) FROM orders",
    "SELECT count(*), count(email), count(DISTINCT city), count(DISTINCT country) FROM customers",
    "SELECT sum(quantity), avg(quantity), min(quantity), max(quantity) FROM order_lines",
    "SELECT sum(id), avg(id) FROM orders",
    "SELECT sum(total), avg(total), min(total), max(total) FROM orders",
    "SELECT avg(price)::numeric(10,2) FROM products",
    "SELECT min(name), max(name) FROM customers",
    "SELECT min(placed_at), max(placed_at), min(shipped_at) FROM orders",
    "SELECT min(birth_date), max(birth_date) FROM customers",
    "SELECT status, count(*), sum(total) FROM orders GROUP BY status ORDER BY status",
    "SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 40 "
    "ORDER BY count(*) DESC, status",
    "SELECT customer_id, count(*) AS n, sum(total) FROM orders GROUP BY customer_id "
    "HAVING count(*) >= 8 ORDER BY n DESC, customer_id",
    "SELECT product_id, sum(quantity) AS units FROM order_lines GROUP BY product_id "
    "ORDER BY units DESC, product_id LIMIT 10",
    "SELECT category, count(*), avg(price), max(price) FROM products GROUP BY category "
    "ORDER BY category NULLS FIRST",
    "SELECT country, count(*) FROM customers GROUP BY country ORDER BY country",
    "SELECT city, count(*) FROM customers GROUP BY city ORDER BY count(*) DESC, city",
    "SELECT avg(rating), sum(rating), count(rating), max(rating) FROM products",
    "SELECT avg(credit_limit), sum(credit_limit) FROM customers",
    "SELECT sum(weight_g), avg(weight_g)::int, sum(stock), avg(stock) FROM products",
    "SELECT count(*) FILTER (WHERE status = 'paid') AS paid, count(*) FILTER "
    "(WHERE status = 'cancelled') AS cancelled, count(*) FROM orders",
    "SELECT customer_id, count(*) FILTER (WHERE status IN ('shipped', 'delivered')) "
    "FROM orders GROUP BY customer_id ORDER BY customer_id",
    "SELECT sum(total) FILTER (WHERE placed_at >= '2024-01-01'), avg(total) FILTER "
    "(WHERE discount IS NOT NULL) FROM orders",
    "SELECT extract(year FROM placed_at) AS y, status, count(*) FROM orders GROUP BY 1, 2 "
    "ORDER BY 1, 2",
    "SELECT count(DISTINCT customer_id) FROM orders",
    "SELECT count(*) FROM (SELECT DISTINCT customer_id FROM orders) t",
    "SELECT max(length(name)), min(char_length(name)) FROM products",
    "SELECT string_agg(sku, ',' ORDER BY sku) FROM products WHERE category = 'Office'",
    "SELECT customer_id, array_agg(id ORDER BY id) FROM orders GROUP BY customer_id "
    "ORDER BY customer_id LIMIT 10",
    "SELECT json_agg(name ORDER BY name, id) FROM customers WHERE vip",
    "SELECT jsonb_agg(sku ORDER BY id) FROM products WHERE NOT active",
    "SELECT order_id, sum(quantity * unit_price) AS amount FROM order_lines GROUP BY order_id "
    "HAVING sum(quantity * unit_price) > 1000 ORDER BY amount DESC, order_id",
    "SELECT count(*) FROM order_lines WHERE discount_pct IS NOT NULL",
    "SELECT min(email), max(email) FROM customers",
    "SELECT category, min(name), max(name) FROM products GROUP BY category",
    "SELECT count(*) AS n FROM customers WHERE name < 'M'",
    "SELECT vip, avg(credit_limit), count(*) FROM customers GROUP BY vip ORDER BY vip",
    "SELECT date_trunc('quarter', placed_at) q, avg(total) FROM orders GROUP BY q ORDER BY q",
    "SELECT coupon, count(*), sum(discount) FROM orders GROUP BY coupon ORDER BY coupon "
    "NULLS FIRST",
    "SELECT count(*), count(shipped_at), count(delivery_date), count(note) FROM orders",
    "SELECT status, min(total), max(total), sum(total) FILTER (WHERE total > 100) FROM orders "
    "GROUP BY status ORDER BY min(total) NULLS FIRST, status",
    "SELECT product_id, count(*), avg(unit_price), sum(discount_pct) FROM order_lines "
    "GROUP BY product_id ORDER BY product_id",
    # ORDER BY with NULLs
    "SELECT id, email FROM customers ORDER BY email, id",
    "SELECT id, email FROM customers ORDER BY email DESC, id",
    "SELECT id, email FROM customers ORDER BY email NULLS FIRST, id",
    "SELECT id, discount FROM orders ORDER BY discount DESC NULLS LAST, id LIMIT 20",
    "SELECT id, shipped_at FROM orders ORDER BY shipped_at NULLS FIRST, id LIMIT 15",
    "SELECT id, birth_date FROM customers ORDER BY birth_date DESC NULLS LAST, id",
    "SELECT id, rating FROM products ORDER BY rating DESC NULLS LAST, id",
    "SELECT id, weight_g FROM products ORDER BY weight_g, id",
    "SELECT id, credit_limit FROM customers ORDER BY credit_limit NULLS FIRST, id",
    "SELECT id, delivery_date FROM orders WHERE customer_id < 10 "
    "ORDER BY delivery_date ASC NULLS LAST, id",
    "SELECT id, vip FROM customers ORDER BY vip DESC, id",
    "SELECT id, country FROM customers ORDER BY country NULLS FIRST, id",
    "SELECT id, total FROM orders ORDER BY total DESC NULLS FIRST, id LIMIT 15",
    "SELECT id, cost FROM products ORDER BY cost DESC, id",
    # text ORDER BY and comparisons under the ICU collation
    "SELECT id, name FROM customers ORDER BY name, id",
    "SELECT id, name FROM customers ORDER BY name DESC, id",
    "SELECT name FROM customers ORDER BY name",
    "SELECT id, name FROM customers WHERE name < 'M' ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name >= 'Zed' ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name > 'émile' ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name BETWEEN 'a' AND 'F' ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name > 'Z' ORDER BY name DESC, id",
    "SELECT id, name FROM products ORDER BY name, id",
    "SELECT id, name, city FROM customers ORDER BY city NULLS FIRST, name, id",
    "SELECT id, name FROM customers ORDER BY lower(name), id",
    "SELECT id, name FROM customers ORDER BY upper(name) DESC, id",
    "SELECT id, name FROM customers ORDER BY name COLLATE \"C\", id",
    "SELECT id, name FROM customers WHERE name COLLATE \"C\" < 'M' ORDER BY id",
    "SELECT name, email FROM customers ORDER BY email, name",
    "SELECT DISTINCT city FROM customers ORDER BY city",
    "SELECT DISTINCT category FROM products ORDER BY 1 NULLS FIRST",
    "SELECT id, sku, name FROM products WHERE name < 'c' ORDER BY name DESC, id",
    "SELECT id, name FROM customers WHERE name IN ('zed', 'Zed', 'ZED') ORDER BY name, id",
    "SELECT id, greatest(name, 'Mm'), least(name, 'Mm') FROM customers ORDER BY id",
    "SELECT max(name), min(name) FROM customers WHERE country = 'DE'",
    "SELECT id, name FROM customers WHERE lower(name) < 'm' ORDER BY lower(name), id",
    "SELECT id, name FROM customers WHERE name <> 'Ana' AND name >= 'ana' ORDER BY name, id",
    "SELECT id, name FROM products WHERE name BETWEEN 'Straße' AND 'strasse z' "
    "ORDER BY name, id",
    "SELECT id, name FROM customers WHERE name > 'côte' AND name < 'Cz' ORDER BY name, id",
    "SELECT id, note FROM orders WHERE note IS NOT NULL ORDER BY note, id",
    "SELECT id, coupon FROM orders WHERE coupon IS NOT NULL ORDER BY coupon DESC, id",
    "SELECT id, sku, category FROM products ORDER BY category, sku",
    "SELECT city, name FROM customers WHERE city IS NOT NULL ORDER BY city DESC, name, id",
    "SELECT id, prefs->>'lang' AS lang FROM customers ORDER BY lang NULLS FIRST, id",
    "SELECT id, split_part(name, ' ', 1) AS first FROM customers ORDER BY first, id",
    "SELECT id, name FROM customers WHERE name >= 'Ø' ORDER BY name, id",
    # LIMIT, LIMIT ALL, OFFSET, FETCH FIRST
    "SELECT id, name FROM customers ORDER BY id LIMIT 10",
    "SELECT id, name FROM customers ORDER BY id LIMIT 10 OFFSET 10",
    "SELECT id, name FROM customers ORDER BY id LIMIT ALL",
    "SELECT id FROM customers ORDER BY id LIMIT ALL OFFSET 45",
    "SELECT id FROM orders ORDER BY id OFFSET 295",
    "SELECT id FROM orders ORDER BY placed_at DESC, id FETCH FIRST 5 ROWS ONLY",
    "SELECT id FROM orders ORDER BY id OFFSET 20 ROWS FETCH NEXT 10 ROWS ONLY",
    "SELECT id FROM orders ORDER BY id FETCH FIRST ROW ONLY",
    "SELECT * FROM products ORDER BY price DESC, id LIMIT 3",
    "SELECT id FROM customers ORDER BY id LIMIT 0",
    "SELECT id, name FROM customers ORDER BY name, id LIMIT 5 OFFSET 5",
    "SELECT id, total FROM orders ORDER BY total DESC NULLS LAST, id LIMIT 10",
    "SELECT id, placed_at FROM orders WHERE (placed_at, id) < ('2024-06-01', 500) "
    "ORDER BY placed_at DESC, id DESC LIMIT 20",
    "SELECT id FROM orders WHERE id > 120 ORDER BY id LIMIT 20",
    "SELECT id, name FROM products ORDER BY name DESC, id OFFSET 25",
    # IN lists, = ANY
    "SELECT id, status FROM orders WHERE status IN ('paid', 'shipped') ORDER BY id LIMIT 20",
    "SELECT id FROM orders WHERE status NOT IN ('cancelled', 'refunded') AND customer_id = 4",
    "SELECT id, name FROM customers WHERE id IN (3, 1, 4, 1, 5, 9, 2, 6) ORDER BY id",
    "SELECT id FROM customers WHERE id = ANY('{2,4,8,16,32}'::int[]) ORDER BY id",
    "SELECT id FROM customers WHERE id = ANY(ARRAY[7, 11, 13])",
    "SELECT id FROM orders WHERE status = ANY(ARRAY['paid', 'pending']) "
    "AND customer_id IN (1, 2, 3) ORDER BY id",
    "SELECT id FROM orders WHERE status <> ALL('{cancelled,refunded}') ORDER BY id LIMIT 20",
    "SELECT id, country FROM customers WHERE country IN ('FR', 'DE') ORDER BY id",
    "SELECT id FROM customers WHERE city IN ('Zürich', 'zürich', 'München') ORDER BY id",
    "SELECT id FROM products WHERE id NOT IN (1, 2, 3) AND active ORDER BY id",
    "SELECT id FROM order_lines WHERE product_id IN (1, 5, 9) AND quantity > 5 ORDER BY id",
    "SELECT id FROM orders WHERE id IN (SELECT order_id FROM order_lines "
    "WHERE discount_pct IS NOT NULL) ORDER BY id LIMIT 20",
    "SELECT id, name FROM customers WHERE name IN ('Émile Zola', 'émile', 'Zoë Müller', 'ß') "
    "ORDER BY id",
    "SELECT id FROM orders WHERE customer_id = ANY(ARRAY[1, 2, 3]::int[]) AND id = ANY("
    "'{1,51,138,153,200,226,256,297}'::bigint[]) ORDER BY id",
    "SELECT id FROM products WHERE sku IN ('SKU-0001', 'SKU-0010', 'SKU-0030') ORDER BY id",
    # jsonb
    "SELECT id, prefs->>'lang' AS lang FROM customers ORDER BY id",
    "SELECT id, prefs->'newsletter' FROM customers ORDER BY id",
    "SELECT id, attrs->>'color' FROM products WHERE attrs->>'color' = 'red' ORDER BY id",
    "SELECT id, attrs->'dims'->>'w' AS w FROM products ORDER BY id",
    "SELECT id, (attrs->'dims'->>'w')::int * (attrs->'dims'->>'h')::int AS area FROM products "
    "WHERE attrs->'dims' IS NOT NULL ORDER BY area DESC, id",
    "SELECT prefs->>'lang' AS lang, count(*) FROM customers GROUP BY 1 ORDER BY 1 NULLS FIRST",
    "SELECT id, attrs FROM products ORDER BY id",
    "SELECT id, prefs FROM customers WHERE prefs IS NOT NULL ORDER BY id LIMIT 10",
    "SELECT id FROM customers WHERE (prefs->>'newsletter')::boolean ORDER BY id",
    "SELECT id, (prefs->>'score')::numeric FROM customers WHERE prefs->>'score' IS NOT NULL "
    "ORDER BY id",
    "SELECT id, attrs->'materials'->0, attrs->'materials'->>1 FROM products ORDER BY id",
    "SELECT attrs->>'size' AS size, count(*) FROM products GROUP BY 1 ORDER BY 1 NULLS LAST",
    "SELECT id, prefs->'address'->>'zip' FROM customers WHERE prefs->'address' IS NOT NULL "
    "ORDER BY id",
    "SELECT id, name FROM customers WHERE prefs->>'theme' = 'dark' ORDER BY name, id",
    "SELECT jsonb_build_object('id', id, 'name', name, 'vip', vip) FROM customers "
    "WHERE id <= 5 ORDER BY id",
    "SELECT json_build_object('order', id, 'total', total, 'at', placed_at) FROM orders "
    "WHERE id <= 3 ORDER BY id",
    "SELECT id, prefs->>'missing', prefs->'theme' FROM customers WHERE id < 8 ORDER BY id",
    "SELECT id, attrs->>'color' AS color FROM products ORDER BY color NULLS FIRST, id",
    "SELECT id, prefs->'address' FROM customers WHERE prefs->'address'->>'city' IS NOT NULL "
    "ORDER BY id",
    "SELECT attrs->>'color' AS color, avg(price), count(*) FROM products GROUP BY 1 "
    "ORDER BY 1",
    # json (not jsonb): the text as written
    "SELECT id, meta FROM orders WHERE id < 9 ORDER BY id",
    "SELECT id, meta->'source', meta->>'source' FROM orders WHERE id < 20 ORDER BY id",
    "SELECT id, meta->'items', meta->'items'->>1 FROM orders WHERE id < 20 ORDER BY id",
    "SELECT count(*) FROM orders WHERE meta->>'source' = 'api'",
    "SELECT id, meta->0, meta->>-1 FROM orders WHERE id < 12 ORDER BY id",
    "SELECT meta->>'gift' AS gift, count(*) FROM orders GROUP BY 1 ORDER BY 1 NULLS FIRST",
    # joins
    "SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.id <= 20 ORDER BY o.id",
    "SELECT o.id, c.name FROM public.orders o INNER JOIN public.customers c "
    "ON o.customer_id = c.id WHERE c.country = 'FR' ORDER BY o.id",
    "SELECT c.id, c.name, count(o.id) AS orders FROM customers c LEFT JOIN orders o "
    "ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY orders DESC, c.id",
    "SELECT c.id, c.name FROM customers c LEFT JOIN orders o ON o.customer_id = c.id "
    "WHERE o.id IS NULL ORDER BY c.id",
    "SELECT o.id, l.line_no, p.name, l.quantity, l.unit_price FROM orders o "
    "JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id "
    "WHERE o.id = 42 ORDER BY l.line_no",
    "SELECT c.name, p.name, sum(l.quantity) FROM customers c JOIN orders o "
    "ON o.customer_id = c.id JOIN order_lines l ON l.order_id = o.id JOIN products p "
    "ON p.id = l.product_id WHERE c.id = 7 GROUP BY c.name, p.name ORDER BY 3 DESC, 2",
    "SELECT p.category, sum(l.quantity * l.unit_price) AS revenue FROM order_lines l "
    "JOIN products p ON p.id = l.product_id GROUP BY p.category ORDER BY revenue DESC, "
    "p.category",
    "SELECT c.country, count(DISTINCT o.id), sum(o.total) FROM customers c JOIN orders o "
    "ON o.customer_id = c.id GROUP BY c.country ORDER BY c.country NULLS LAST",
    "SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id "
    "WHERE o.status = 'cancelled' ORDER BY l.id",
    "SELECT p.id, p.name, count(l.id) FROM products p LEFT JOIN order_lines l "
    "ON l.product_id = p.id GROUP BY p.id ORDER BY count(l.id), p.id",
    "SELECT c.name, o.placed_at FROM customers c JOIN orders o ON o.customer_id = c.id "
    "WHERE o.placed_at >= '2025-06-01' ORDER BY o.placed_at, o.id",
    "SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id "
    "JOIN order_lines l ON l.order_id = o.id WHERE l.product_id = 3 ORDER BY c.id",
    "SELECT a.id, b.id, a.name, b.name FROM customers a JOIN customers b "
    "ON lower(a.name) = lower(b.name) AND a.id < b.id ORDER BY a.id, b.id",
    "SELECT o.id, c.name, o.total, sum(l.quantity) FROM orders o JOIN customers c "
    "ON c.id = o.customer_id JOIN order_lines l ON l.order_id = o.id "
    "GROUP BY o.id, c.name, o.total ORDER BY o.id LIMIT 25",
    "SELECT c.id, c.name, max(o.placed_at) AS last_order FROM customers c LEFT JOIN orders o "
    "ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY last_order DESC NULLS LAST, c.id",
    "SELECT p.name, c.name FROM products p CROSS JOIN (SELECT name FROM customers "
    "WHERE id = 1) c WHERE p.id <= 3 ORDER BY p.name",
    "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id AND c.vip "
    "WHERE o.status = 'paid' ORDER BY o.id",
    "SELECT c.city, p.category, count(*) FROM customers c JOIN orders o "
    "ON o.customer_id = c.id JOIN order_lines l ON l.order_id = o.id JOIN products p "
    "ON p.id = l.product_id GROUP BY c.city, p.category "
    "ORDER BY count(*) DESC, c.city, p.category LIMIT 20",
    "SELECT p.id, l.id FROM order_lines l RIGHT JOIN products p ON p.id = l.product_id "
    "AND l.quantity > 10 ORDER BY p.id, l.id",
    "SELECT o.id, o.total, c.credit_limit, o.total > c.credit_limit AS over FROM orders o "
    "JOIN customers c ON c.id = o.customer_id WHERE o.id % 10 = 0 ORDER BY o.id",
    "SELECT * FROM (SELECT id AS customer_id, name FROM customers) c JOIN orders "
    "USING (customer_id) WHERE orders.id < 5 ORDER BY orders.id",
    "SELECT c.name, o.id, o.status FROM customers c, orders o WHERE o.customer_id = c.id "
    "AND c.name ILIKE 'z%' ORDER BY c.name, o.id",
    "SELECT o.id, c.email, p.sku FROM orders o JOIN customers c ON c.id = o.customer_id "
    "LEFT JOIN order_lines l ON l.order_id = o.id AND l.line_no = 1 LEFT JOIN products p "
    "ON p.id = l.product_id WHERE o.id BETWEEN 1 AND 40 ORDER BY o.id",
    "SELECT c.vip, p.category, sum(l.quantity) FROM order_lines l JOIN orders o "
    "ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id JOIN products p "
    "ON p.id = l.product_id GROUP BY 1, 2 ORDER BY 1, 2",
    # subqueries and CTEs
    "SELECT id, name FROM customers WHERE id IN (SELECT customer_id FROM orders "
    "WHERE status = 'refunded') ORDER BY id",
    "SELECT id, name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
    "WHERE o.customer_id = c.id AND o.total > 1000) ORDER BY id",
    "SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
    "WHERE o.customer_id = c.id) ORDER BY id",
    "SELECT id, name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n "
    "FROM customers c ORDER BY id",
    "SELECT id, (SELECT max(placed_at) FROM orders o WHERE o.customer_id = c.id) FROM "
    "customers c ORDER BY id",
    "SELECT id, total FROM orders WHERE total > (SELECT avg(total) FROM orders) "
    "ORDER BY total DESC, id LIMIT 10",
    "SELECT * FROM (SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id) t "
    "WHERE spent > 3000 ORDER BY spent DESC, customer_id",
    "WITH spent AS (SELECT customer_id, sum(total) AS s FROM orders WHERE status <> 'cancelled' "
    "GROUP BY customer_id) SELECT c.name, s.s FROM spent s JOIN customers c "
    "ON c.id = s.customer_id ORDER BY s.s DESC, c.id LIMIT 10",
    "WITH recent AS (SELECT * FROM orders WHERE placed_at >= '2025-01-01') SELECT status, "
    "count(*) FROM recent GROUP BY status ORDER BY status",
    "SELECT id FROM products WHERE price > ALL (SELECT price FROM products "
    "WHERE category = 'Office') ORDER BY id",
    "SELECT id, name FROM products WHERE price = (SELECT max(price) FROM products)",
    "SELECT p.id, p.name FROM products p WHERE p.id IN (SELECT product_id FROM order_lines "
    "GROUP BY product_id HAVING sum(quantity) > 100) ORDER BY p.id",
    "SELECT c.id, (SELECT o.id FROM orders o WHERE o.customer_id = c.id "
    "ORDER BY o.placed_at DESC, o.id DESC LIMIT 1) AS last_order FROM customers c ORDER BY c.id",
    "SELECT count(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id "
    "HAVING count(*) > 5) t",
    "SELECT id FROM orders o WHERE total > (SELECT avg(total) FROM orders o2 "
    "WHERE o2.customer_id = o.customer_id) ORDER BY id LIMIT 20",
    "SELECT id, name FROM customers WHERE id = (SELECT customer_id FROM orders "
    "ORDER BY total DESC NULLS LAST, id LIMIT 1)",
    "SELECT c.id, x.id, x.total FROM customers c CROSS JOIN LATERAL (SELECT id, total "
    "FROM orders o WHERE o.customer_id = c.id ORDER BY total DESC NULLS LAST, id LIMIT 2) x "
    "ORDER BY c.id, x.total DESC NULLS LAST, x.id",
    "WITH monthly AS (SELECT date_trunc('month', placed_at) AS m, sum(total) AS revenue "
    "FROM orders GROUP BY 1) SELECT m, revenue, revenue - lag(revenue) OVER (ORDER BY m) "
    "AS change FROM monthly ORDER BY m",
    "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders) ORDER BY id",
    "SELECT status, (SELECT count(*) FROM orders i WHERE i.status = o.status) FROM "
    "(SELECT DISTINCT status FROM orders) o ORDER BY status",
    "WITH big AS (SELECT order_id FROM order_lines WHERE quantity >= 10), buyers AS "
    "(SELECT DISTINCT customer_id FROM orders WHERE id IN (SELECT order_id FROM big)) "
    "SELECT c.id, c.name FROM customers c JOIN buyers b ON b.customer_id = c.id ORDER BY c.id",
    # window functions
    "SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id "
    "ORDER BY placed_at, id) AS n FROM orders ORDER BY customer_id, n",
    "SELECT id, total, rank() OVER (ORDER BY total DESC NULLS LAST) FROM orders "
    "ORDER BY 3, id LIMIT 20",
    "SELECT id, total, dense_rank() OVER (ORDER BY total DESC) FROM orders ORDER BY id",
    "SELECT id, customer_id, total, sum(total) OVER (PARTITION BY customer_id) AS cust_total "
    "FROM orders WHERE customer_id <= 5 ORDER BY id",
    "SELECT id, placed_at, sum(total) OVER (ORDER BY placed_at, id) AS running FROM orders "
    "ORDER BY placed_at, id LIMIT 30",
    "SELECT id, lag(total) OVER (PARTITION BY customer_id ORDER BY placed_at, id), "
    "lead(id) OVER (PARTITION BY customer_id ORDER BY placed_at, id) FROM orders ORDER BY id",
    "SELECT * FROM (SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id "
    "ORDER BY total DESC NULLS LAST, id) AS rn FROM orders) t WHERE rn <= 2 "
    "ORDER BY customer_id, rn",
    "SELECT id, name, ntile(4) OVER (ORDER BY credit_limit NULLS FIRST, id) FROM customers "
    "ORDER BY id",
    "SELECT category, name, price, rank() OVER (PARTITION BY category ORDER BY price DESC) "
    "FROM products ORDER BY category NULLS FIRST, 4, name",
    "SELECT id, name, count(*) OVER () AS full_count FROM customers ORDER BY id LIMIT 5",
    "SELECT id, avg(quantity) OVER (PARTITION BY product_id) FROM order_lines "
    "WHERE product_id <= 3 ORDER BY id",
    "SELECT id, name, row_number() OVER (ORDER BY name, id) FROM customers ORDER BY name, id",
    "SELECT id, first_value(id) OVER (PARTITION BY status ORDER BY placed_at, id) FROM orders "
    "ORDER BY id LIMIT 20",
    "SELECT id, total, sum(total) OVER w, count(*) OVER w FROM orders WHERE customer_id < 4 "
    "WINDOW w AS (PARTITION BY customer_id ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) "
    "ORDER BY id",
    "SELECT status, id, percent_rank() OVER (PARTITION BY status ORDER BY total, id) FROM orders "
    "WHERE status IN ('cancelled', 'refunded') ORDER BY status, id",
    "SELECT id, name, rank() OVER (ORDER BY lower(name)) FROM customers ORDER BY 3, id",
    "SELECT id, quantity, sum(quantity) OVER (PARTITION BY order_id ORDER BY line_no) "
    "FROM order_lines WHERE order_id <= 8 ORDER BY id",
    # UNION and friends
    "SELECT name FROM customers WHERE country = 'FR' UNION SELECT name FROM customers "
    "WHERE vip ORDER BY 1",
    "SELECT id, 'customer' AS kind, name FROM customers WHERE id <= 3 UNION ALL "
    "SELECT id, 'product', name FROM products WHERE id <= 3 ORDER BY kind, id",
    "SELECT city FROM customers UNION SELECT category FROM products",
    "SELECT customer_id FROM orders WHERE status = 'paid' INTERSECT SELECT customer_id "
    "FROM orders WHERE status = 'refunded' ORDER BY 1",
    "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders ORDER BY 1",
    "SELECT email FROM customers WHERE email IS NOT NULL UNION ALL SELECT sku FROM products "
    "ORDER BY 1",
    "(SELECT id FROM orders ORDER BY total DESC NULLS LAST, id LIMIT 3) UNION ALL "
    "(SELECT id FROM orders ORDER BY total, id LIMIT 3)",
    "SELECT 'paid' AS s, count(*) FROM orders WHERE status = 'paid' UNION ALL "
    "SELECT 'open', count(*) FROM orders WHERE status = 'pending'",
    "SELECT name FROM customers UNION SELECT name FROM products ORDER BY name DESC",
    "SELECT country AS code FROM customers UNION ALL SELECT left(sku, 2) FROM products "
    "WHERE id < 3",
    # DISTINCT
    "SELECT DISTINCT status FROM orders ORDER BY status",
    "SELECT DISTINCT country FROM customers",
    "SELECT DISTINCT ON (customer_id) customer_id, id, placed_at FROM orders "
    "ORDER BY customer_id, placed_at DESC, id DESC",
    "SELECT count(DISTINCT product_id) FROM order_lines",
    "SELECT DISTINCT lower(city) FROM customers ORDER BY 1",
    "SELECT DISTINCT c.country, o.status FROM customers c JOIN orders o "
    "ON o.customer_id = c.id ORDER BY 1, 2",
    "SELECT DISTINCT quantity FROM order_lines ORDER BY quantity DESC",
    "SELECT DISTINCT extract(year FROM placed_at) FROM orders",
    # things a copy hardly answers: forwarded, the same answers
    "SELECT id, name FROM customers WHERE name ~ '^[A-Z]' ORDER BY id",
    "SELECT id, email FROM customers WHERE email ~* '@example\\.com$' ORDER BY id",
    "SELECT id FROM products WHERE tags @> ARRAY['sale'] ORDER BY id",
    "SELECT id FROM products WHERE attrs @> '{\"color\": \"red\"}' ORDER BY id",
    "SELECT id FROM customers WHERE tags && ARRAY['vip', 'b2b'] ORDER BY id",
    "SELECT d::date, count(o.id) FROM generate_series('2024-01-01'::date, '2024-01-31', "
    "'1 day') d LEFT JOIN orders o ON o.placed_at::date = d GROUP BY d ORDER BY d",
    "SELECT id, name FROM products WHERE to_tsvector('english', name) @@ "
    "to_tsquery('english', 'mug | pen') ORDER BY id",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
    "ORDER BY table_name",
    "SELECT column_name, data_type FROM information_schema.columns "
    "WHERE table_name = 'orders' ORDER BY ordinal_position",
    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    "SELECT id, unnest(tags) AS tag FROM products ORDER BY id, tag",
    "SELECT id, regexp_replace(name, '[^a-zA-Z]', '', 'g') FROM customers ORDER BY id",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders",
    "SELECT current_user, current_schema(), current_setting('TimeZone')",
    "SELECT tag, count(*) FROM customers, unnest(tags) tag GROUP BY tag "
    "ORDER BY count(*) DESC, tag",
    "SELECT id, tags[1], array_length(tags, 1), cardinality(tags) FROM customers ORDER BY id",
    "SELECT id, name FROM customers WHERE name SIMILAR TO '(A|Z)%' ORDER BY id",
    "SELECT id FROM customers WHERE prefs ? 'address' ORDER BY id",
]

# queries PostgreSQL rejects: the same error must come back
ERRORS = [
    "SELECT id, nosuchcolumn FROM customers",
    "SELECT * FROM no_such_table",
    "SELECT id / 0 FROM orders WHERE id = 1",
    "SELECT id FROM customers WHERE id = 'abc'",
    "SELECT id * 2147483647 FROM customers WHERE id = 5",
    "SELECT (prefs->>'lang')::int FROM customers WHERE prefs->>'lang' = 'fr'",
    "SELECT name FROM customers ORDER BY 5",
    "SELECT count(*) FROM orders WHERE placed_at > 'yesterday-ish'",
    "SELECT id FROM customers WHERE name = 1",
    "SELEC id FROM customers",
    "SELECT quantity / (line_no - line_no) FROM order_lines WHERE order_id = 2",
]


def templated_queries(seed=SEED):
    """The same shapes with other values, as applications send them."""
    rng = random.Random(seed + 1)
    n_customers, n_orders = len(DATA["customers"]), len(DATA["orders"])
    out = []
    for c in rng.sample(range(1, n_customers + 1), 8):
        out.append("SELECT * FROM customers WHERE id = %d" % c)
    for c in rng.sample(range(1, n_customers + 1), 8):
        out.append("SELECT id, status, total, placed_at FROM orders WHERE customer_id = %d "
                   "ORDER BY placed_at DESC, id DESC LIMIT 5" % c)
    for o in rng.sample(range(1, n_orders + 1), 8):
        out.append("SELECT l.line_no, p.name, l.quantity, l.unit_price FROM order_lines l "
                   "JOIN products p ON p.id = l.product_id WHERE l.order_id = %d "
                   "ORDER BY l.line_no" % o)
    for cat in ("Kitchen", "kitchen", "Office", "Garden", "Décor"):
        out.append("SELECT id, name, price FROM products WHERE category = '%s' AND active "
                   "ORDER BY price, id" % cat)
    for status, day in zip(rng.sample(STATUSES, 6), ("2023-03-01", "2023-11-15", "2024-02-29",
                                                    "2024-07-01", "2025-01-01", "2025-09-30")):
        out.append("SELECT count(*) FROM orders WHERE status = '%s' AND placed_at >= '%s'"
                   % (status, day))
    for prefix in ("a", "é", "Z", "st", "ß", "o'"):
        out.append("SELECT id, name FROM customers WHERE name ILIKE '%s%%' ORDER BY name, id"
                   % prefix.replace("'", "''"))
    for lo in rng.sample(range(0, 400, 10), 6):
        out.append("SELECT id, name, price FROM products WHERE price BETWEEN %d AND %d.50 "
                   "ORDER BY price, id" % (lo, lo + 80))
    for _ in range(4):
        ids = sorted(rng.sample(range(1, n_orders + 1), rng.randrange(2, 7)))
        out.append("SELECT id, status FROM orders WHERE id = ANY('{%s}'::bigint[]) ORDER BY id"
                   % ",".join(map(str, ids)))
    for c in rng.sample(range(1, n_customers + 1), 5):
        out.append("SELECT sum(total) FROM orders WHERE customer_id = %d "
                   "AND status <> 'cancelled'" % c)
    for name in ("M", "émile", "Zoë", "ß", "Ångström", "ana"):
        out.append("SELECT id, name FROM customers WHERE name < '%s' ORDER BY name DESC, id "
                   "LIMIT 5" % name)
    return out


SIMPLE = ([(q, False) for q in QUERIES] +
          [(q, False) for q in templated_queries() if q not in QUERIES] +
          [(q, True) for q in ERRORS])

# -- the extended protocol

INT4, INT8, TEXT, VARCHAR, BOOL, NUMERIC, DATE, TIMESTAMPTZ, TEXT_ARRAY = (
    23, 20, 25, 1043, 16, 1700, 1082, 1184, 1009)
P, B, D, E = pgproto.parse, pgproto.bind, pgproto.describe, pgproto.execute


def _param(value):
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode()


class Ext:
    """One extended-protocol round: Parse (unless the statement is named and parsed before),
    Describe of the statement when asked, Bind, Describe of the portal, Execute, Sync."""

    def __init__(self, sql, types=None, values=(), stmt="", parse=True, describe_stmt=False,
                 param_formats=(), result_formats=(), error=False):
        self.sql, self.types, self.values = sql, types, values
        self.stmt, self.parse, self.describe_stmt = stmt, parse, describe_stmt
        self.param_formats, self.result_formats, self.error = (param_formats, result_formats,
                                                               error)

    def messages(self):
        msgs = []
        if self.parse:
            msgs.append(P(self.stmt, self.sql, self.types or ()))
        if self.describe_stmt:
            msgs.append(D("S", self.stmt))
        msgs += [B("", self.stmt, [_param(v) for v in self.values], self.param_formats,
                   self.result_formats), D("P", ""), E("")]
        return msgs

    def label(self):
        kind = ("typed %s" % list(self.types) if self.types and any(self.types) else
                "untyped" if not self.types else "OID 0 %s" % list(self.types))
        extra = ""
        if self.param_formats:
            extra += ", binary parameters"
        if self.result_formats:
            extra += ", result formats %s" % list(self.result_formats)
        if self.stmt:
            extra += ", statement %s" % self.stmt
        return "[extended %s%s] %s  -- %r" % (kind, extra, self.sql, list(self.values))


def i4(v):
    return struct.pack("!i", v)


def i8(v):
    return struct.pack("!q", v)


NAME_OF_7 = DATA["customers"][6][1]
EXTENDED = [
    Ext("SELECT * FROM customers WHERE id = $1", [INT4], ["7"]),
    Ext("SELECT * FROM customers WHERE id = $1", None, ["12"]),
    Ext("SELECT id, name, email FROM customers WHERE email = $1", [TEXT], [SOME_EMAIL]),
    Ext("SELECT id, status, total FROM orders WHERE customer_id = $1 "
        "ORDER BY placed_at DESC, id DESC LIMIT $2", [INT4, INT8], ["5", "10"]),
    Ext("SELECT id, status, total FROM orders WHERE customer_id = $1 "
        "ORDER BY placed_at DESC, id DESC LIMIT $2", None, ["9", "3"]),
    Ext("SELECT id, name FROM customers WHERE name ILIKE $1 ORDER BY name, id", [TEXT],
        ["%an%"]),
    Ext("SELECT id, name FROM customers WHERE name ILIKE $1 ORDER BY name, id", None, ["é%"]),
    Ext("SELECT id, placed_at FROM orders WHERE placed_at >= $1 AND placed_at < $2 "
        "ORDER BY placed_at, id", [TIMESTAMPTZ, TIMESTAMPTZ],
        ["2024-03-01 00:00:00+00", "2024-04-01 00:00:00+00"]),
    Ext("SELECT id, placed_at FROM orders WHERE placed_at >= $1 AND placed_at < $2 "
        "ORDER BY placed_at, id", [0, 0], ["2025-01-01", "2025-01-15 12:00"]),
    Ext("SELECT id FROM orders WHERE status = ANY($1) ORDER BY id LIMIT 20", [TEXT_ARRAY],
        ["{paid,shipped}"]),
    Ext("SELECT id FROM orders WHERE status = ANY($1) ORDER BY id LIMIT 20", None,
        ["{refunded}"]),
    Ext("SELECT id, name, price FROM products WHERE price BETWEEN $1 AND $2 ORDER BY price, id",
        [NUMERIC, NUMERIC], ["10", "50.5"]),
    Ext("SELECT id, name, price FROM products WHERE price BETWEEN $1 AND $2 ORDER BY price, id",
        None, ["100", "200"]),
    Ext("SELECT id, name FROM customers WHERE vip = $1 ORDER BY id", [BOOL], ["t"]),
    Ext("SELECT id, name FROM customers WHERE vip = $1 ORDER BY id", None, ["false"]),
    Ext("SELECT id, name, birth_date FROM customers WHERE birth_date < $1 "
        "ORDER BY birth_date, id", [DATE], ["1980-01-01"]),
    Ext("SELECT id FROM customers WHERE prefs->>'lang' = $1 ORDER BY id", [TEXT], ["de"]),
    Ext("SELECT id FROM customers WHERE prefs->>'lang' = $1 ORDER BY id", None, ["fr"]),
    Ext("SELECT id, name FROM customers WHERE name < $1 ORDER BY name, id", [TEXT], ["M"]),
    Ext("SELECT id, name FROM customers WHERE name < $1 ORDER BY name, id", None, ["Émile"]),
    Ext("SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2", [INT4, TEXT],
        ["3", "paid"]),
    Ext("SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2", None,
        ["4", "delivered"]),
    Ext("SELECT id FROM customers WHERE id = $1", [INT4], [None]),
    Ext("SELECT id FROM customers WHERE id = $1", [INT4], ["abc"], error=True),
    Ext("SELECT $1::int + 1 AS n", None, ["41"]),
    Ext("SELECT $1 AS echo", None, ["héllo"]),
    Ext("SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.total > $1 ORDER BY o.total DESC, o.id LIMIT 5", [NUMERIC], ["900"]),
    Ext("SELECT status, count(*), sum(total) FROM orders WHERE placed_at >= $1 GROUP BY status "
        "ORDER BY status", [TIMESTAMPTZ], ["2024-01-01T00:00:00Z"]),
    Ext("SELECT id, price, created_at, active, name FROM products WHERE id = $1", [INT4],
        [i4(5)], param_formats=[1], result_formats=[1]),
    Ext("SELECT id, total, placed_at FROM orders WHERE id = $1", [INT8], [i8(77)],
        param_formats=[1], result_formats=[0, 1, 0]),
    Ext("SELECT id, total FROM orders ORDER BY id LIMIT $1 OFFSET $2", [INT8, INT8],
        ["5", "100"]),
    Ext("SELECT * FROM products WHERE sku = $1", [VARCHAR], ["SKU-0005"]),
    Ext("SELECT id, quantity / $1, quantity % $1 FROM order_lines WHERE order_id = $2 "
        "ORDER BY id", [INT4, INT8], ["3", "17"]),
    Ext("SELECT coalesce($1::text, 'none')", None, [None]),
    Ext("SELECT id FROM customers WHERE id IN ($1, $2, $3) ORDER BY id", None, ["1", "2", "3"]),
    Ext("SELECT date_trunc('month', placed_at) AS m, count(*) FROM orders "
        "WHERE customer_id = $1 GROUP BY 1 ORDER BY 1", [INT4], ["4"]),
    Ext("SELECT id, email FROM customers WHERE name = $1 ORDER BY id", [TEXT], [NAME_OF_7]),
    Ext("SELECT id, name FROM customers WHERE lower(name) LIKE lower($1) || '%' ORDER BY id",
        None, ["ZO"]),
    Ext("SELECT id FROM products WHERE tags @> $1 ORDER BY id", [TEXT_ARRAY], ["{sale}"]),
    Ext("SELECT id, prefs->$1 FROM customers WHERE id <= 5 ORDER BY id", None, ["lang"]),
    # what psycopg 3 and asyncpg send: the statement described before it is bound
    Ext("SELECT id, name, city FROM customers WHERE country = $1 ORDER BY name, id", None,
        ["FR"], describe_stmt=True),
    Ext("SELECT sum(quantity), avg(unit_price) FROM order_lines WHERE product_id = $1", None,
        ["3"], describe_stmt=True),
    # a named statement used again (pgjdbc past prepareThreshold, libpq's PQprepare)
    Ext("SELECT id, name, credit_limit FROM customers WHERE id = $1", [INT4], ["2"],
        stmt="compat_c", describe_stmt=True),
    Ext("SELECT id, name, credit_limit FROM customers WHERE id = $1", [INT4], ["20"],
        stmt="compat_c", parse=False),
    Ext("SELECT id, name, credit_limit FROM customers WHERE id = $1", [INT4], ["999"],
        stmt="compat_c", parse=False),
    Ext("SELECT id, total FROM orders WHERE customer_id = $1 AND placed_at < $2 ORDER BY id",
        None, ["6", "2024-06-01"], stmt="compat_o"),
    Ext("SELECT id, total FROM orders WHERE customer_id = $1 AND placed_at < $2 ORDER BY id",
        None, ["8", "2025-01-01 00:00+02"], stmt="compat_o", parse=False),
]


# ---------------------------------------------------------------------------------------------
# answers


def _blank(sql):
    """The query with string literals emptied and parenthesized parts blanked: its top level."""
    text = re.sub(r"'(?:[^']|'')*'", "''", sql)
    text = re.sub(r'"(?:[^"]|"")*"', '""', text)
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        out.append(ch if depth == 0 else " ")
        if ch == ")":
            depth -= 1
    return "".join(out)


def ordered(sql):
    """Whether the query orders its rows at the top level (then they are compared in order)."""
    return re.search(r"\border\s+by\b", _blank(sql), re.I) is not None


def check_queries():
    """The rules of the module docstring that can be checked from the text."""
    problems = []
    texts = [q for q, _ in SIMPLE] + [e.sql for e in EXTENDED]
    for sql in texts:
        top = _blank(sql)
        if re.search(r"\b(limit|offset|fetch)\b", top, re.I) and not ordered(sql):
            problems.append("LIMIT/OFFSET/FETCH without ORDER BY: " + sql)
        if re.search(r"\b(now|current_timestamp|current_date|localtimestamp)\b",
                     re.split(r"\bfrom\b", sql, 1, re.I)[0], re.I):
            problems.append("the clock in the output: " + sql)
    dup = [q for q, n in collections.Counter(q for q, _ in SIMPLE).items() if n > 1]
    problems += ["twice: " + q for q in dup]
    assert not problems, "\n".join(problems)


def data_row_values(body):
    (count,) = struct.unpack("!h", body[:2])
    pos, values = 2, []
    for _ in range(count):
        (size,) = struct.unpack("!i", body[pos:pos + 4])
        pos += 4
        if size < 0:
            values.append(None)
        else:
            values.append(body[pos:pos + size])
            pos += size
    return values


def row_description(body):
    """[(name, table OID, attnum, type OID, typlen, typmod, format)]"""
    (count,) = struct.unpack("!h", body[:2])
    pos, cols = 2, []
    for _ in range(count):
        end = body.index(b"\0", pos)
        name = body[pos:end].decode("utf-8", "replace")
        pos = end + 1
        cols.append((name,) + struct.unpack("!IhIhih", body[pos:pos + 18]))
        pos += 18
    return cols


def normalize(msgs, in_order):
    """The answer as compared: messages in order, each run of DataRows one item (sorted when
    the query does not order its rows), an error or notice as its severity, SQLSTATE and
    message."""
    out = []
    for kind, body in msgs:
        if kind == "D":
            if not out or out[-1][0] != "rows":
                out.append(("rows", []))
            out[-1][1].append(body)
        elif kind in "EN":
            f = pgproto.error_fields(body)
            out.append((kind, (f.get("S"), f.get("C"), f.get("M"))))
        else:
            out.append((kind, body))
    return [(k, tuple(v if in_order else sorted(v))) if k == "rows" else (k, v)
            for k, v in out]


def _value(v, binary):
    if v is None:
        return "NULL"
    if binary:
        return "\\x" + v.hex()
    try:
        return repr(v.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(v)


def render(answer, raw):
    """Readable lines of an answer: columns, rows, tags, errors."""
    lines, formats = [], []
    error_text = {}
    for kind, body in raw:
        if kind in "EN":
            f = pgproto.error_fields(body)
            error_text[(f.get("S"), f.get("C"), f.get("M"))] = f
    for kind, value in answer:
        if kind == "T":
            cols = row_description(value)
            formats = [c[6] for c in cols]
            lines.append("columns: " + ", ".join(
                "%s(type %d typmod %d%s, from %d.%d)" % (c[0], c[3], c[5],
                                                        " binary" if c[6] else "", c[1], c[2])
                for c in cols))
        elif kind == "rows":
            lines.append("%d row(s):" % len(value))
            for body in value:
                vals = data_row_values(body)
                lines.append("  (" + ", ".join(
                    _value(v, i < len(formats) and formats[i] == 1)
                    for i, v in enumerate(vals)) + ")")
        elif kind == "C":
            lines.append("complete: " + value.rstrip(b"\0").decode())
        elif kind in "EN":
            f = error_text.get(value, {})
            lines.append("%s: %s %s %s%s" % ("error" if kind == "E" else "notice", value[0],
                                             value[1], value[2],
                                             " (detail: %s)" % f["D"] if "D" in f else ""))
        elif kind == "t":
            (n,) = struct.unpack("!h", value[:2])
            lines.append("parameter types: %s" % list(struct.unpack("!%dI" % n, value[2:])))
        elif kind in "12n3Z":
            lines.append({"1": "parse complete", "2": "bind complete", "n": "no data",
                          "3": "close complete", "Z": "ready (%s)" % value.decode()}[kind])
        else:
            lines.append("message %s %r" % (kind, value))
    return lines


def mismatch_report(label, got, want, got_raw, want_raw):
    a, b = render(got, got_raw), render(want, want_raw)
    diff = list(difflib.unified_diff(b, a, "postgres", "sqledge", n=2, lineterm=""))
    if len(diff) > MAX_DIFF_LINES:
        diff = diff[:MAX_DIFF_LINES] + ["... (%d more lines)" % (len(diff) - MAX_DIFF_LINES)]
    return "\n".join(["MISMATCH " + label] + ["    " + line for line in diff])


# ---------------------------------------------------------------------------------------------
# the test


@pytest.fixture(scope="module")
def shop(pg):
    """The shop in a fresh ICU database and a sqledge with local reads that has copied it; the
    database and sqledge (checked for sanitizer reports) go at the end of the module."""
    database = harness.Database(pg, "c_" + harness.unique_suffix())
    pg.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu "
                         "ICU_LOCALE 'en-US'").format(pgsql.Identifier(database.name)))
    sq = None
    reports = ""
    try:
        fill(database)
        assert database.scalar("SELECT datlocprovider FROM pg_database "
                               "WHERE datname = current_database()") == "i"
        # the names are there to be ordered differently by ICU and by bytes
        assert database.scalar("SELECT array_agg(name ORDER BY name) <> "
                               "array_agg(name ORDER BY name COLLATE \"C\") FROM customers")
        sq = harness.Sqledge(database, env={"SQLEDGE_PROXY_LOCAL_READS": "true",
                                            "SQLEDGE_PROXY_WORKERS": "1"})
        sq.start()
        sq.wait_caught_up()
        yield database, sq
    finally:
        if sq is not None:
            try:
                if sq.running():
                    sq.stop(timeout=20)
            except AssertionError:
                pass
            reports = sq.sanitizer_reports()
            sq.cleanup()
        if not pg.running:
            pg.start()
        database.drop()
    if reports:
        pytest.fail("sanitizer reports in the sqledge log (%s):\n%s" % (sq.logfile, reports))


class Sessions:
    """One raw session through sqledge and one straight at the upstream, with the same settings;
    the one through sqledge is opened again if sqledge drops it."""

    def __init__(self, db, sq):
        self.db, self.sq = db, sq
        self.direct = self._setup(raw_direct(db))
        self.through = self._setup(raw_proxy(sq))

    @staticmethod
    def _setup(r):
        for statement in SESSION_SETTINGS:
            answer = raw_answer(r, statement)
            assert ("C", b"SET\0") in answer and answer[-1] == ("Z", b"I"), (statement, answer)
        return r

    def reopen(self):
        try:
            self.through.close()
        except OSError:
            pass
        self.through = harness.wait_for(lambda: self._setup(raw_proxy(self.sq)), 30,
                                        "a new session through sqledge", alive=self.sq)

    def close(self):
        self.through.close()
        self.direct.close()


def exchange(r, data):
    r.send_raw(data)
    return r.recv_until("Z")


def test_the_queries_follow_the_rules():
    check_queries()
    assert len(SIMPLE) >= MIN_QUERIES, len(SIMPLE)


def test_answers_equal_postgresql_and_the_local_share(shop, request):
    db, sq = shop
    request.node._sqledge_instances = [sq]  # the log tail comes with a failure report
    sessions = Sessions(db, sq)
    for name in ("TimeZone", "DateStyle", "IntervalStyle", "lc_collate", "server_encoding",
                 "client_encoding", "standard_conforming_strings"):
        show = "SHOW " + name
        got, want = raw_answer(sessions.through, show), raw_answer(sessions.direct, show)
        assert got == want, "the sessions start differently: %s %r %r" % (show, got, want)

    results = []  # (label, local)
    mismatches, broken = [], []
    local_before, _ = counters(sq)

    def run(label, data, in_order, must_fail=False, count=True):
        nonlocal local_before
        want_raw = exchange(sessions.direct, data)
        try:
            got_raw = exchange(sessions.through, data)
        except (OSError, EOFError) as exc:
            got_raw = [("E", b"SFATAL\0C08006\0Mconnection through sqledge lost: " +
                        str(exc).encode() + b"\0\0"), ("Z", b"?")]
            sessions.reopen()
        if count:
            local_now, _ = counters(sq)
            results.append((label, local_now > local_before))
            local_before = local_now
        failed = any(k == "E" for k, _ in want_raw)
        if failed != must_fail:
            broken.append("%s: PostgreSQL %s\n    %s" % (
                label, "answered" if not failed else "rejected it", "\n    ".join(
                    render(normalize(want_raw, True), want_raw))))
        got, want = normalize(got_raw, in_order), normalize(want_raw, in_order)
        if got != want:
            mismatches.append(mismatch_report(label, got, want, got_raw, want_raw))

    try:
        for sql, must_fail in SIMPLE:
            run(sql, pgproto.query(sql), ordered(sql), must_fail)
        n_simple = len(results)
        for ext in EXTENDED:
            run(ext.label(), b"".join(ext.messages()) + pgproto.SYNC, ordered(ext.sql),
                ext.error)
        for stmt in sorted({e.stmt for e in EXTENDED if e.stmt}):
            run("[extended] Close of statement " + stmt, pgproto.close("S", stmt) + pgproto.SYNC,
                True, count=False)
    finally:
        sessions.close()

    total = len(results)
    local = sum(1 for _, is_local in results if is_local)
    forwarded = [label for label, is_local in results if not is_local]
    # the share over what applications send: the statements written to fail (a typo, a
    # missing column) are there to compare errors, not as application queries
    failing = {sql for sql, must_fail in SIMPLE if must_fail}
    failing |= {ext.label() for ext in EXTENDED if ext.error}
    app = [(label, is_local) for label, is_local in results if label not in failing]
    share = sum(1 for _, is_local in app if is_local) / len(app) if app else 0.0
    print("\ncompat: %d queries, %d answered locally (%.1f%%); of the %d application queries "
          "(all but the %d written to fail), %.1f%%" % (
              total, local, 100 * local / total if total else 0, len(app), total - len(app),
              100 * share))
    print("compat: %d simple, %d extended; forwarded (%d):" % (n_simple, total - n_simple,
                                                              len(forwarded)))
    for label in forwarded:
        print("  " + label)
    print("compat: %d mismatch(es)" % len(mismatches))

    assert not broken, ("queries PostgreSQL did not answer as the test expects (fix the "
                        "query):\n" + "\n".join(broken))
    assert not mismatches, ("%d of %d answers differ from PostgreSQL's:\n\n" % (
        len(mismatches), total)) + "\n\n".join(mismatches)
    assert n_simple >= MIN_QUERIES, "only %d simple queries" % n_simple
    assert share >= MIN_LOCAL_SHARE, (
        "%.1f%% of the application queries answered locally, below MIN_LOCAL_SHARE %.1f%%; "
        "forwarded:\n%s" % (100 * share, 100 * MIN_LOCAL_SHARE, "\n".join(forwarded)))


# psql's backslash commands and the catalog and information_schema queries tools send: the
# upstream's answers, through sqledge as directly
PSQL_COMMANDS = [
    "\\d", "\\dt", "\\d orders", "\\d+ customers", "\\di", "\\dn", "\\l", "\\du",
    "\\dv", "\\ds", "\\dT", "\\d products",
    "SELECT version()", "SELECT current_user, session_user, current_database()",
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'public' ORDER BY 1, 2",
    "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1",
    "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
    "WHERE a.attrelid = 'public.orders'::regclass AND a.attnum > 0 ORDER BY a.attnum",
]


def test_psql_meta_commands_and_catalog_queries(shop):
    db, sq = shop
    _, forwarded = counters(sq)
    for command in PSQL_COMMANDS:
        got = psql(db, sq.proxy_port, "-c", command).stdout
        want = psql(db, db.cluster.port, "-c", command, host=db.cluster.host).stdout
        assert got == want, "%s through sqledge:\n%s\ndirectly:\n%s" % (command, got, want)
        assert got.strip(), command
    assert counters(sq)[1] > forwarded + len(PSQL_COMMANDS)  # psql's queries went upstream
