-- Rivet demo database for MySQL 8 / MariaDB 10.5+: rivet_demo with users, orders and events.
--
--   mariadb -h 127.0.0.1 -P PORT -u root < scripts/demo/mysql.sql
--   (or: mysql -h 127.0.0.1 -P PORT -u root < scripts/demo/mysql.sql)
--
-- Every value is computed from the row number, so each load produces the same rows:
-- 1,000 users, 3,000 orders and 5,000 events, with the types exports meet in practice (bigint
-- keys, varchar with accents, CJK and quotes, decimal(12,2), datetime(6), timestamp, enum,
-- json, tinyint(1) flags) and some NULLs. Re-running the script recreates the tables.
-- Numbers come from a cross join of a ten-row digits table, which both servers support
-- (no sequence engine, no recursion limit to raise).

CREATE DATABASE IF NOT EXISTS rivet_demo CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE rivet_demo;

-- TIMESTAMP columns store UTC; writing them in +00:00 makes the stored instants the same on
-- every machine.
SET time_zone = '+00:00';

DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS rivet_demo_digits;

CREATE TABLE rivet_demo_digits (d INT NOT NULL PRIMARY KEY);
INSERT INTO rivet_demo_digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
CREATE TEMPORARY TABLE rivet_demo_numbers (n INT NOT NULL PRIMARY KEY);
INSERT INTO rivet_demo_numbers
SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d
FROM rivet_demo_digits a, rivet_demo_digits b, rivet_demo_digits c, rivet_demo_digits e;
DROP TABLE rivet_demo_digits;

CREATE TABLE users (
  id BIGINT NOT NULL PRIMARY KEY,
  email VARCHAR(255) NOT NULL,
  full_name VARCHAR(100) NOT NULL,
  country CHAR(2) NULL,
  plan ENUM('free', 'pro', 'enterprise') NOT NULL,
  is_active TINYINT(1) NOT NULL,
  balance DECIMAL(12,2) NOT NULL,
  preferences JSON NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB;

INSERT INTO users
SELECT n,
       CONCAT('user', n, '@example.com'),
       CONCAT(ELT(1 + n % 8, 'Ana García', 'Björn Larsson', 'Chloé Martin', 'Dmitri Ivanov',
                  'Emeka Okafor', '佐藤 花子', 'Zoë Müller', 'Liam O''Brien'),
              ' #', n),
       IF(n % 17 = 0, NULL, ELT(1 + n % 6, 'US', 'DE', 'FR', 'JP', 'BR', 'IN')),
       ELT(1 + (n * 7) % 10, 'free', 'free', 'free', 'free', 'free', 'pro', 'pro', 'pro', 'pro',
           'enterprise'),
       IF(n % 7 = 0, 0, 1),
       ((n * 7919) % 1000000) / 100,
       IF(n % 11 = 0, NULL,
          JSON_OBJECT('theme', IF(n % 2 = 0, 'dark', 'light'), 'newsletter', n % 3 = 0,
                      'tags', JSON_ARRAY(CONCAT('cohort-', n % 12), 'demo'))),
       TIMESTAMP('2022-01-01 00:00:00') + INTERVAL ((n * 86311) % 31536000) SECOND
                                      + INTERVAL ((n * 7919) % 1000000) MICROSECOND,
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL ((n * 3571) % 15552000) SECOND
FROM rivet_demo_numbers
WHERE n <= 1000;

CREATE TABLE orders (
  id BIGINT NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  status ENUM('pending', 'paid', 'shipped', 'cancelled', 'refunded') NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  currency CHAR(3) NOT NULL,
  items JSON NOT NULL,
  is_gift TINYINT(1) NOT NULL DEFAULT 0,
  note VARCHAR(200) NULL,
  ordered_at DATETIME(6) NOT NULL,
  shipped_on DATE NULL,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY orders_user (user_id),
  KEY orders_ordered_at (ordered_at)
) ENGINE=InnoDB;

INSERT INTO orders
SELECT n,
       1 + (n * 37) % 1000,
       ELT(1 + (n * 13) % 10, 'paid', 'paid', 'shipped', 'shipped', 'shipped', 'shipped',
           'pending', 'cancelled', 'refunded', 'paid'),
       ((n * 104729) % 5000000) / 100 + 0.99,
       ELT(1 + n % 3, 'USD', 'EUR', 'JPY'),
       JSON_ARRAY(JSON_OBJECT('sku', CONCAT('SKU-', LPAD((n * 31) % 500, 4, '0')),
                              'qty', 1 + n % 4,
                              'price', ((n * 7919) % 20000) / 100)),
       IF(n % 9 = 0, 1, 0),
       CASE WHEN n % 50 = 0 THEN 'Leave at the door, "side" entrance'
            WHEN n % 13 = 0 THEN 'Geschenkverpackung bitte — danke!'
            WHEN n % 29 = 0 THEN '请在工作日送达'
            ELSE NULL END,
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL ((n * 10007) % 31536000) SECOND
                                      + INTERVAL ((n * 4391) % 1000000) MICROSECOND,
       IF((n * 13) % 10 IN (2, 3, 4, 5),
          DATE('2024-01-02') + INTERVAL ((n * 10007) % 31536000) DIV 86400 DAY, NULL),
       TIMESTAMP('2024-06-01 00:00:00') + INTERVAL ((n * 7727) % 15552000) SECOND
                                      + INTERVAL ((n * 271) % 1000000) MICROSECOND
FROM rivet_demo_numbers
WHERE n <= 3000;

CREATE TABLE events (
  id BIGINT NOT NULL PRIMARY KEY,
  user_id BIGINT NULL,
  event_type ENUM('page_view', 'click', 'signup', 'login', 'logout', 'purchase', 'refund',
                  'search') NOT NULL,
  payload JSON NULL,
  amount DECIMAL(12,2) NULL,
  created_at DATETIME(6) NOT NULL,
  recorded_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY events_created_at (created_at)
) ENGINE=InnoDB;

INSERT INTO events
SELECT n,
       IF(n % 23 = 0, NULL, 1 + (n * 53) % 1000),
       ELT(1 + (n * 3) % 8, 'page_view', 'click', 'signup', 'login', 'logout', 'purchase',
           'refund', 'search'),
       JSON_OBJECT('session', MD5(n), 'page', CONCAT('/products/', n % 500),
                   'ref', ELT(1 + n % 4, 'search', 'email', 'ads', 'direct')),
       IF((n * 3) % 8 IN (5, 6), ((n * 7919) % 100000) / 100, NULL),
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL (n * 6311) SECOND
                                      + INTERVAL ((n * 997) % 1000000) MICROSECOND,
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL (n * 6311 + n % 5) SECOND
                                      + INTERVAL ((n * 997) % 1000000) MICROSECOND
FROM rivet_demo_numbers
WHERE n <= 5000;

DROP TEMPORARY TABLE rivet_demo_numbers;

SELECT 'users' AS demo_table, COUNT(*) AS demo_rows FROM users
UNION ALL SELECT 'orders', COUNT(*) FROM orders
UNION ALL SELECT 'events', COUNT(*) FROM events;
