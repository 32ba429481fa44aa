// SPDX-License-Identifier: MIT
//
// A pgjdbc session exercising what applications do through a PostgreSQL server: server-prepared
// statements with binary transfer (prepareThreshold=1), typed getters, result set metadata,
// transactions, batches, errors, cursor fetches and multi-statement strings.
//
// Usage: java -cp DIR:/usr/share/java/postgresql.jar JdbcCheck HOST PORT DBNAME USER PASSWORD TABLE
//        [setup | reads]
// (setup: only create and fill TABLE; reads: only the typed reads of a TABLE filled so)
//
// Prints one line per step, "step {json}", with nothing that varies between two servers or two
// runs (no timings, pids or OIDs), so that the output of a run straight at PostgreSQL and of a run
// through sqledge can be compared line by line. Exits 0 on success, 1 with the exception on
// stderr otherwise.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Savepoint;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TimeZone;
import java.util.UUID;

import org.postgresql.util.PGobject;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

public class JdbcCheck {
    private static final TimeZone UTC = TimeZone.getTimeZone("UTC");

    private static final String COLUMNS =
        "id, big, txt, num, ts, tstz, flag, bin, uid, day, dbl, doc";

    private final Connection conn;
    private final String table;

    private JdbcCheck(Connection conn, String table) {
        this.conn = conn;
        this.table = table;
    }

    public static void main(String[] args) {
        if (args.length != 6 && !(args.length == 7 && (args[6].equals("setup")
                || args[6].equals("reads") || args[6].equals("ryw")))) {
            System.err.println("usage: JdbcCheck HOST PORT DBNAME USER PASSWORD TABLE"
                + " [setup | reads | ryw]");
            System.exit(2);
        }
        // the driver sends the JVM's time zone as the session's TimeZone
        TimeZone.setDefault(UTC);
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[2]
            + "?prepareThreshold=1&sslmode=disable";
        Properties props = new Properties();
        props.setProperty("user", args[3]);
        props.setProperty("password", args[4]);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            JdbcCheck check = new JdbcCheck(conn, args[5]);
            if (args.length == 6) {
                check.run();
            } else if (args[6].equals("setup")) {
                check.createTable();
                check.insertRows();
            } else if (args[6].equals("ryw")) {
                check.readYourWrites();
            } else {
                check.selectRows();
            }
        } catch (Throwable e) {
            System.out.flush();
            System.err.println("JdbcCheck failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private void run() throws Exception {
        out("connect", "server_major", conn.getMetaData().getDatabaseMajorVersion(),
            "autocommit", conn.getAutoCommit());
        createTable();
        insertRows();
        selectRows();
        metadata();
        transactions();
        batch();
        errors();
        cursorFetch();
        multiStatement();
        try (Statement st = conn.createStatement()) {
            st.execute("DROP TABLE " + table);
            out("drop", "update_count", st.getUpdateCount());
        }
    }

    private void createTable() throws SQLException {
        // a primary key from the start: with sqledge running the table is published, and
        // PostgreSQL refuses UPDATE and DELETE on a published table without a replica identity
        try (Statement st = conn.createStatement()) {
            boolean rs = st.execute("CREATE TABLE " + table + " (id int4 PRIMARY KEY,"
                + " big int8, txt text, num numeric(12,3), ts timestamp, tstz timestamptz,"
                + " flag bool, bin bytea, uid uuid, day date, dbl float8, doc jsonb)");
            out("create", "result_set", rs, "update_count", st.getUpdateCount());
        }
    }

    // -- typed rows

    private static Object[] row(int id, Long big, String txt, String num, String ts, String tstz,
                                Boolean flag, byte[] bin, String uid, String day, Double dbl,
                                String doc) {
        return new Object[] {id, big, txt, num == null ? null : new BigDecimal(num),
            ts == null ? null : Timestamp.from(Instant.parse(ts)),
            tstz == null ? null : Timestamp.from(Instant.parse(tstz)), flag, bin,
            uid == null ? null : UUID.fromString(uid), day == null ? null : LocalDate.parse(day),
            dbl, doc};
    }

    private static final Object[][] ROWS = {
        row(1, 9007199254740993L, "alpha", "12345.678", "2024-01-02T03:04:05.123456Z",
            "2024-06-30T23:59:59.500Z", true, new byte[] {0, (byte) 0xff, 0x10, 0x5c},
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "2024-02-29", 1.5,
            "{\"k\": \"v\", \"a\": [1, 2, {\"b\": null}]}"),
        row(2, null, null, null, null, null, null, null, null, null, null, null),
        row(3, -42L, "h\u00e9llo \"w\u00f6rld\" \\ 'quoted' \u65e5\u672c \ud83d\ude00", "-0.001",
            "1999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", false, new byte[0],
            "00000000-0000-0000-0000-000000000000", "1900-01-01", -2.5e-10, "[]"),
        row(4, Long.MIN_VALUE, "", "999999999.999", "2038-01-19T03:14:08Z",
            "2000-02-29T12:00:00.000001Z", true, "bytes\n".getBytes(),
            "ffffffff-ffff-ffff-ffff-ffffffffffff", "2000-01-01", Double.NaN, "{}"),
        row(5, Long.MAX_VALUE, "line1\nline2\ttab", "0", "2024-01-02T00:00:00Z", null, null,
            new byte[] {1, 2, 3}, null, "2024-12-31", Double.POSITIVE_INFINITY, "null"),
        row(6, 0L, "six", "-12.5", null, "2024-03-31T01:30:00Z", false, null,
            "123e4567-e89b-12d3-a456-426614174000", null, 0.1, "{\"n\": 1.50}"),
        row(7, 7L, "seven", "7.007", "2024-07-07T07:07:07Z", "2024-07-07T07:07:07Z", true,
            new byte[] {7}, "77777777-7777-7777-7777-777777777777", "2024-07-07", 7.0,
            "[7, \"seven\"]"),
    };

    private void bindRow(PreparedStatement ps, Object[] r) throws SQLException {
        Calendar utc = Calendar.getInstance(UTC);
        ps.setInt(1, (Integer) r[0]);
        if (r[1] == null) ps.setNull(2, Types.BIGINT); else ps.setLong(2, (Long) r[1]);
        if (r[2] == null) ps.setNull(3, Types.VARCHAR); else ps.setString(3, (String) r[2]);
        ps.setBigDecimal(4, (BigDecimal) r[3]);  // null binds a typed NULL
        if (r[4] == null) ps.setNull(5, Types.TIMESTAMP);
        else ps.setTimestamp(5, (Timestamp) r[4], utc);
        if (r[5] == null) ps.setNull(6, Types.TIMESTAMP_WITH_TIMEZONE);
        else ps.setTimestamp(6, (Timestamp) r[5], utc);
        if (r[6] == null) ps.setNull(7, Types.BOOLEAN); else ps.setBoolean(7, (Boolean) r[6]);
        ps.setBytes(8, (byte[]) r[7]);
        ps.setObject(9, r[8], Types.OTHER);
        ps.setObject(10, r[9], Types.DATE);
        if (r[10] == null) ps.setNull(11, Types.DOUBLE); else ps.setDouble(11, (Double) r[10]);
        PGobject doc = new PGobject();
        doc.setType("jsonb");
        doc.setValue((String) r[11]);
        ps.setObject(12, doc);
    }

    private void insertRows() throws SQLException {
        String sql = "INSERT INTO " + table + " (" + COLUMNS + ")"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (Object[] r : ROWS) {
                bindRow(ps, r);
                out("insert", "id", r[0], "update_count", ps.executeUpdate());
            }
        }
    }

    // Each row read right after it was written, through server-prepared statements: the
    // read must see the write (read-your-writes).
    private void readYourWrites() throws SQLException {
        String ins = "INSERT INTO " + table + " (id, txt) VALUES (?, ?)";
        String sel = "SELECT id, txt FROM " + table + " WHERE id = ?";
        try (PreparedStatement pi = conn.prepareStatement(ins);
             PreparedStatement ps = conn.prepareStatement(sel)) {
            for (int i = 0; i < 30; i++) {
                int id = 100000 + i;
                pi.setInt(1, id);
                pi.setString(2, "ryw " + i);
                pi.executeUpdate();
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    StringBuilder got = new StringBuilder();
                    while (rs.next())
                        got.append(rs.getInt(1)).append('|').append(rs.getString(2));
                    out("ryw", "id", id, "row", got.toString());
                }
            }
        }
    }

    private void selectRows() throws SQLException {
        String sql = "SELECT " + COLUMNS + " FROM " + table + " WHERE id = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            // every row twice: the first executions describe, the later ones go binary
            for (int pass = 1; pass <= 2; pass++) {
                for (Object[] r : ROWS) {
                    ps.setInt(1, (Integer) r[0]);
                    try (ResultSet rs = ps.executeQuery()) {
                        int n = 0;
                        while (rs.next()) {
                            printTypedRow("select_pass" + pass, rs);
                            n++;
                        }
                        out("select_count", "id", r[0], "rows", n);
                    }
                }
            }
        }
        // NULL parameters and parameters of other types
        sql = "SELECT id FROM " + table + " WHERE txt IS NOT DISTINCT FROM ? AND"
            + " (flag = ? OR ? IS NULL) ORDER BY id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            Object[][] cases = {{null, null}, {"alpha", true}, {"six", null}, {"", true},
                {"six", false}, {null, false}};
            for (Object[] c : cases) {
                ps.setString(1, (String) c[0]);
                if (c[1] == null) {
                    ps.setNull(2, Types.BOOLEAN);
                    ps.setNull(3, Types.BOOLEAN);
                } else {
                    ps.setBoolean(2, (Boolean) c[1]);
                    ps.setBoolean(3, (Boolean) c[1]);
                }
                out("select_by", "txt", c[0], "flag", c[1], "ids", ids(ps.executeQuery()));
            }
        }
        sql = "SELECT count(*), sum(num), max(tstz), min(day) FROM " + table
            + " WHERE big > ? AND num <> ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (long big = -100; big <= 100; big += 40) {
                ps.setLong(1, big);
                ps.setBigDecimal(2, new BigDecimal("0.000"));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out("aggregate", "big_gt", big, "count", rs.getLong(1),
                        "sum", str(rs.getBigDecimal(2)), "max_tstz", rs.getString(3),
                        "min_day", rs.getString(4));
                }
            }
        }
    }

    private void printTypedRow(String step, ResultSet rs) throws SQLException {
        Calendar utc = Calendar.getInstance(UTC);
        Map<String, Object> m = new LinkedHashMap<>();
        ResultSetMetaData md = rs.getMetaData();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            // pgjdbc 42.5's getString on a binary-transferred bytea is byte[].toString() (an
            // identity hash): the bytes are printed through getBytes below
            if (!md.getColumnTypeName(i).equals("bytea")) {
                m.put(md.getColumnLabel(i), rs.getString(i));
            }
        }
        int id = rs.getInt(1);
        m.put("id:getInt", id);
        long big = rs.getLong(2);
        m.put("big:getLong", rs.wasNull() ? null : big);
        m.put("num:getBigDecimal", str(rs.getBigDecimal(4)));
        Timestamp ts = rs.getTimestamp(5, utc);
        m.put("ts:getTimestamp", ts == null ? null : ts.toInstant().toString());
        Timestamp tstz = rs.getTimestamp(6, utc);
        m.put("tstz:getTimestamp", tstz == null ? null : tstz.toInstant().toString());
        OffsetDateTime odt = rs.getObject(6, OffsetDateTime.class);
        m.put("tstz:OffsetDateTime", str(odt));
        boolean flag = rs.getBoolean(7);
        m.put("flag:getBoolean", rs.wasNull() ? null : flag);
        m.put("bin:getBytes", hex(rs.getBytes(8)));
        Object uid = rs.getObject(9);
        m.put("uid:getObject", uid == null ? null : uid.getClass().getName() + " " + uid);
        m.put("day:LocalDate", str(rs.getObject(10, LocalDate.class)));
        double dbl = rs.getDouble(11);
        m.put("dbl:getDouble", rs.wasNull() ? null : Double.toString(dbl));
        Object doc = rs.getObject(12);
        m.put("doc:getObject", doc instanceof PGobject
            ? ((PGobject) doc).getType() + " " + ((PGobject) doc).getValue() : str(doc));
        out(step, m);
    }

    // -- metadata

    private void metadata() throws SQLException {
        String sql = "SELECT " + COLUMNS + ", num * 2 AS doubled, 'x'::varchar(7) AS vc"
            + " FROM " + table + " WHERE id = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setInt(1, 1);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    out("metadata", "column", i, "name", md.getColumnName(i),
                        "label", md.getColumnLabel(i), "type", md.getColumnTypeName(i),
                        "jdbc_type", md.getColumnType(i), "class", md.getColumnClassName(i),
                        "precision", md.getPrecision(i), "scale", md.getScale(i),
                        "display_size", md.getColumnDisplaySize(i),
                        "nullable", md.isNullable(i), "signed", md.isSigned(i));
                }
            }
            ParameterMetaData pmd = ps.getParameterMetaData();
            out("parameter_metadata", "count", pmd.getParameterCount(),
                "type", pmd.getParameterTypeName(1));
        }
    }

    // -- transactions

    private long count(String where) throws SQLException {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void insertSimple(PreparedStatement ps, int id, String txt) throws SQLException {
        ps.setInt(1, id);
        ps.setString(2, txt);
        ps.executeUpdate();
    }

    private void transactions() throws SQLException {
        String sql = "INSERT INTO " + table + " (id, txt) VALUES (?, ?)";
        conn.setAutoCommit(false);
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            insertSimple(ps, 100, "rolled back");
            insertSimple(ps, 101, "rolled back");
            out("tx_before_rollback", "visible", count("id IN (100, 101)"));
            conn.rollback();
            out("tx_after_rollback", "visible", count("id IN (100, 101)"));
            insertSimple(ps, 102, "committed");
            insertSimple(ps, 103, "committed");
            conn.commit();
            out("tx_after_commit", "visible", count("id IN (102, 103)"));
            // a savepoint inside a transaction
            insertSimple(ps, 104, "kept");
            Savepoint sp = conn.setSavepoint("sp1");
            insertSimple(ps, 105, "undone");
            conn.rollback(sp);
            conn.commit();
            out("tx_savepoint", "kept", count("id = 104"), "undone", count("id = 105"));
        } finally {
            conn.setAutoCommit(true);
        }
        try (Statement st = conn.createStatement()) {
            out("tx_cleanup", "deleted", st.executeUpdate("DELETE FROM " + table
                + " WHERE id >= 100"));
        }
    }

    // -- batches

    private void batch() throws SQLException {
        String sql = "INSERT INTO " + table + " (id, big, txt, num) VALUES (?, ?, ?, ?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int id = 10; id < 22; id++) {
                ps.setInt(1, id);
                ps.setLong(2, id * 1000L);
                if (id % 4 == 0) ps.setNull(3, Types.VARCHAR); else ps.setString(3, "batch " + id);
                ps.setBigDecimal(4, new BigDecimal(id).movePointLeft(2));
                ps.addBatch();
            }
            out("batch", "update_counts", Arrays.stream(ps.executeBatch()).boxed().toArray());
        }
        try (Statement st = conn.createStatement()) {
            st.addBatch("UPDATE " + table + " SET big = big + 1 WHERE id BETWEEN 10 AND 14");
            st.addBatch("UPDATE " + table + " SET txt = 'none' WHERE id = 999");
            st.addBatch("DELETE FROM " + table + " WHERE id = 21");
            out("statement_batch", "update_counts",
                Arrays.stream(st.executeBatch()).boxed().toArray());
        }
    }

    // -- errors

    private void printError(String step, SQLException e) {
        String message = e.getMessage();
        String detail = null;
        if (e instanceof PSQLException) {
            ServerErrorMessage sem = ((PSQLException) e).getServerErrorMessage();
            if (sem != null) {
                message = sem.getMessage();
                detail = sem.getDetail();
            }
        }
        out(step, "sqlstate", e.getSQLState(), "message", message, "detail", detail);
    }

    private void errors() throws SQLException {
        String sql = "INSERT INTO " + table + " (id, txt) VALUES (?, ?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < 2; i++) {
                try {
                    insertSimple(ps, 1, "duplicate");
                    throw new IllegalStateException("duplicate key accepted");
                } catch (SQLException e) {
                    printError("error_unique", e);
                }
                insertSimple(ps, 30 + i, "after error");
                out("after_error", "visible", count("id = " + (30 + i)));
            }

            conn.setAutoCommit(false);
            insertSimple(ps, 40, "in failed transaction");
            try {
                insertSimple(ps, 1, "duplicate");
                throw new IllegalStateException("duplicate key accepted");
            } catch (SQLException e) {
                printError("tx_error_unique", e);
            }
            try {
                count("true");
                throw new IllegalStateException("query accepted in a failed transaction");
            } catch (SQLException e) {
                printError("tx_error_aborted", e);
            }
            conn.rollback();
            out("tx_error_rollback", "visible", count("id = 40"));
            insertSimple(ps, 41, "after rollback");
            conn.commit();
            conn.setAutoCommit(true);
            out("tx_error_continue", "visible", count("id = 41"));
        }
        try (Statement st = conn.createStatement()) {
            try {
                st.executeQuery("SELECT nosuchcolumn FROM " + table);
                throw new IllegalStateException("unknown column accepted");
            } catch (SQLException e) {
                printError("error_undefined_column", e);
            }
            try {
                st.executeQuery("SELECT 1/0");
                throw new IllegalStateException("division by zero accepted");
            } catch (SQLException e) {
                printError("error_division", e);
            }
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int4")) {
            ps.setString(1, "not a number");
            try {
                ps.executeQuery();
                throw new IllegalStateException("bad int4 accepted");
            } catch (SQLException e) {
                printError("error_bad_parameter", e);
            }
            ps.setString(1, "12");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                out("after_bad_parameter", "value", rs.getInt(1));
            }
        }
    }

    // -- cursor fetch

    private void cursorFetch() throws SQLException {
        conn.setAutoCommit(false);
        try (Statement st = conn.createStatement()) {
            st.setFetchSize(3);
            try (ResultSet rs = st.executeQuery("SELECT id, txt, num FROM " + table
                    + " ORDER BY id")) {
                int n = 0;
                while (rs.next()) {
                    out("fetch", "id", rs.getInt(1), "txt", rs.getString(2),
                        "num", rs.getString(3));
                    n++;
                }
                out("fetch_done", "rows", n);
            }
        }
        String sql = "SELECT g, g * 2 AS twice FROM generate_series(1, ?) g ORDER BY g";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setFetchSize(4);
            for (int limit : new int[] {11, 3, 0, 12}) {
                ps.setInt(1, limit);
                List<Object> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(rs.getInt(1) + ":" + rs.getLong(2));
                }
                out("fetch_prepared", "limit", limit, "rows", rows.toArray());
            }
        }
        conn.commit();
        conn.setAutoCommit(true);
    }

    // -- several statements in one string

    private void multiStatement() throws SQLException {
        String[] sqls = {
            "SELECT 1; SELECT 2",
            "SELECT 1 AS a, 'x' AS b; UPDATE " + table + " SET big = 0 WHERE id = 10;"
                + " SELECT count(*) FROM " + table,
        };
        for (String sql : sqls) {
            try (Statement st = conn.createStatement()) {
                boolean isResultSet = st.execute(sql);
                int part = 0;
                while (true) {
                    part++;
                    if (isResultSet) {
                        List<Object> rows = new ArrayList<>();
                        try (ResultSet rs = st.getResultSet()) {
                            int cols = rs.getMetaData().getColumnCount();
                            while (rs.next()) {
                                List<Object> row = new ArrayList<>();
                                for (int i = 1; i <= cols; i++) row.add(rs.getString(i));
                                rows.add(row.toArray());
                            }
                        }
                        out("multi", "part", part, "rows", rows.toArray());
                    } else {
                        int count = st.getUpdateCount();
                        if (count == -1) break;
                        out("multi", "part", part, "update_count", count);
                    }
                    isResultSet = st.getMoreResults();
                }
            }
        }
    }

    // -- output

    private static String str(Object o) {
        if (o == null) return null;
        if (o instanceof BigDecimal) return ((BigDecimal) o).toPlainString();
        return o.toString();
    }

    private static String hex(byte[] b) {
        if (b == null) return null;
        StringBuilder sb = new StringBuilder("\\x");
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    private static List<Object> ids(ResultSet rs) throws SQLException {
        List<Object> ids = new ArrayList<>();
        try (rs) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    private static void out(String step, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        out(step, m);
    }

    private static void out(String step, Map<String, Object> m) {
        StringBuilder sb = new StringBuilder(step).append(' ');
        json(sb, m);
        System.out.println(sb);
    }

    private static void json(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Map) {
            sb.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                sb.append(sep);
                json(sb, e.getKey().toString());
                sb.append(": ");
                json(sb, e.getValue());
                sep = ", ";
            }
            sb.append('}');
        } else if (v instanceof Object[] || v instanceof List) {
            Object[] a = v instanceof List ? ((List<?>) v).toArray() : (Object[]) v;
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) sb.append(", ");
                json(sb, a[i]);
            }
            sb.append(']');
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else {
            String s = v.toString();
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\t': sb.append("\\t"); break;
                    case '\r': sb.append("\\r"); break;
                    default:
                        if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                }
            }
            sb.append('"');
        }
    }
}
