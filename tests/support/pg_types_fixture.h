// The PostgreSQL type matrix shared by the CSV (integration) and Parquet (interop) tests:
// every type of reference §5 with NULLs and edge values, in table rivet_e2e_types.
#pragma once

namespace rivet::testing {

inline constexpr const char* kPgTypesSetup = R"sql(
DROP TABLE IF EXISTS rivet_e2e_types;
DROP TYPE IF EXISTS rivet_mood;
CREATE TYPE rivet_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE rivet_e2e_types (
  id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
  n12 numeric(12,2), n38 numeric(38,0), n38s numeric(38,10), nfree numeric,
  t text, vc varchar(20), bp char(3), nm name, by bytea, d date, tm time, ts timestamp,
  tstz timestamptz, u uuid, j json, jb jsonb, iv interval, mood rivet_mood,
  ia int[], ta text[], ip inet, r int4range);
INSERT INTO rivet_e2e_types VALUES
 (1, true, 12, 123456, 1234567890123, 42, 3.14, 2.718281828459045,
  1234.5, 42, 3.1415926535, 0.1,
  'plain', 'varchar', 'abc', 'a_name', '\xdeadbeef', '2024-02-29', '13:45:10.5',
  '2026-03-29 14:30:00.123456', '2026-03-29 14:30:00.123456+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": [1, 2]}', '{"b": {"c": null}, "a": 1}', '1 year 2 mons 3 days 04:05:06.789', 'happy',
  '{1,2,3}', '{"x","y"}', '192.168.0.1/24', '[1,10)'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, false, -32768, -2147483648, -9223372036854775808, 0, '-Infinity', 'NaN',
  -0.01, 99999999999999999999999999999999999999, -9999999999999999999999999999.9999999999,
  '123456789012345678901234567890.123456789',
  '', 'a,b "q"', 'x y', 'n', '\x00ff00', '1900-01-01', '00:00:00', '1969-07-20 20:17:40.123456',
  '1950-01-01 00:00:00.000001+05:30', '00000000-0000-0000-0000-000000000000',
  '"s"', '[]', '-00:00:00.000001', 'sad', '{NULL,-1,NULL}', '{NULL,"","q\"uote, comma"}',
  '::1', 'empty'),
 (4, true, 32767, 2147483647, 9223372036854775807, 4294967295, 'Infinity', '-0',
  9999999999.99, -99999999999999999999999999999999999999, 0, '-0.000000000000000000001',
  E'line1\nline2\r\nend 😀 ü 中', 'ünï', '😀', 'zz', '\x', '9999-12-31', '23:59:59.999999',
  '0001-01-01 00:00:00', '2262-04-11 23:47:16.854775+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'null', '{"k": "v\u00e9"}', '0 seconds', 'ok', '{}', '{}', '10.0.0.0/8', '(,5]'),
 (5, NULL, 1, 1, 1, 1, 1e-45, 1e308, 0, 1, 0.0000000001, 'NaN',
  E'tab\there', NULL, NULL, NULL, NULL, '0001-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, '{NULL}', NULL, NULL);
)sql";

}  // namespace rivet::testing
