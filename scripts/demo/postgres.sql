-- Rivet demo database: rivet_demo (schema public) with users, orders and events.
-- Every value is computed from generate_series, so each load gives the same rows.
--
--   psql "postgresql://postgres@127.0.0.1:PORT/postgres" -X -q -v ON_ERROR_STOP=1 \
--        -f scripts/demo/postgres.sql
--
-- Recreates the database each time (psql script: uses \connect).
SET client_min_messages = warning;
DROP DATABASE IF EXISTS rivet_demo;
CREATE DATABASE rivet_demo;
\connect rivet_demo

SET client_min_messages = warning;
SET TimeZone = 'UTC';

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');

CREATE TABLE users (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  email      text,
  country    char(2),
  signup_at  timestamptz NOT NULL,
  is_active  boolean NOT NULL,
  balance    numeric(12,2) NOT NULL,
  tags       text[]
);

CREATE TABLE orders (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users (id),
  product     text NOT NULL,
  quantity    int NOT NULL,
  price       numeric(10,2) NOT NULL,
  status      order_status NOT NULL,
  created_at  timestamp NOT NULL,
  updated_at  timestamptz
);

CREATE TABLE events (
  id           bigint PRIMARY KEY,
  user_id      int NOT NULL,
  event_type   text NOT NULL,
  payload      jsonb,
  occurred_at  timestamptz NOT NULL,
  session_id   uuid NOT NULL,
  ip           inet
);

-- 1000 users; every 12th has no email; a few tags arrays hold NULL elements or are empty.
INSERT INTO users (id, name, email, country, signup_at, is_active, balance, tags)
SELECT i,
       (ARRAY['Ada', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances'])[1 + i % 8]
         || ' ' || (ARRAY['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov',
                          'Thompson', 'Allen', 'Müller', 'Østergaard'])[1 + (i * 7) % 10],
       CASE WHEN i % 12 = 0 THEN NULL ELSE 'user' || i || '@example.com' END,
       (ARRAY['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA'])[1 + (i * 3) % 8],
       timestamptz '2023-01-01 00:00:00+00' + (i * 7919 % 525600) * interval '1 minute'
         + (i % 1000) * interval '1 millisecond',
       i % 5 <> 0,
       ((i * 104729) % 10000000) / 100.0 - 5000,
       CASE i % 6
         WHEN 0 THEN NULL
         WHEN 1 THEN ARRAY['new']
         WHEN 2 THEN ARRAY['vip', 'beta']
         WHEN 3 THEN ARRAY['beta', NULL]
         WHEN 4 THEN ARRAY[]::text[]
         ELSE ARRAY['churn-risk', 'emea', 'newsletter']
       END
FROM generate_series(1, 1000) AS i;
ALTER SEQUENCE users_id_seq RESTART WITH 1001;

-- 5000 orders over the users.
INSERT INTO orders (id, user_id, product, quantity, price, status, created_at, updated_at)
SELECT i,
       1 + (i * 31) % 1000,
       (ARRAY['keyboard', 'mouse', 'monitor', 'laptop stand', 'usb-c cable', 'webcam',
              'headset', 'desk lamp'])[1 + i % 8],
       1 + i % 5,
       (ARRAY[49.99, 19.50, 229.00, 35.25, 9.99, 79.90, 129.00, 24.75])[1 + i % 8],
       (enum_range(NULL::order_status))[1 + (i * 13) % 5],
       timestamp '2024-01-01 00:00:00' + (i * 3607) * interval '1 second',
       CASE WHEN i % 4 = 0 THEN NULL
            ELSE timestamptz '2024-01-01 00:00:00+00' + (i * 3607 + 86400) * interval '1 second'
       END
FROM generate_series(1, 5000) AS i;
ALTER SEQUENCE orders_id_seq RESTART WITH 5001;

-- 5000 events with JSON payloads, session ids and client addresses.
INSERT INTO events (id, user_id, event_type, payload, occurred_at, session_id, ip)
SELECT i,
       1 + (i * 17) % 1000,
       (ARRAY['page_view', 'click', 'signup', 'purchase', 'logout'])[1 + i % 5],
       CASE WHEN i % 10 = 0 THEN NULL
            ELSE jsonb_build_object('path', '/p/' || (i % 50), 'ms', (i * 37) % 2000,
                                    'ok', i % 3 <> 0, 'ref', CASE WHEN i % 2 = 0 THEN 'ad' END)
       END,
       timestamptz '2024-03-01 00:00:00+00' + (i * 523) * interval '1 second'
         + (i % 997) * interval '1 microsecond',
       md5('session-' || (i / 10))::uuid,
       CASE WHEN i % 25 = 0 THEN NULL
            ELSE ('10.' || (i % 256) || '.' || ((i / 256) % 256) || '.' || (1 + i % 254))::inet
       END
FROM generate_series(1, 5000) AS i;

CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);
ANALYZE;
