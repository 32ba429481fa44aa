/* SPDX-License-Identifier: MIT */
/* Unit tests for src/pgnum.c: numeric_in, + - * /, round/trunc, numeric_cmp and typmod casts
 * against results collected from a PostgreSQL 15.18 server, plus the storage limits. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pgnum.h"
#include "util.h"
#include "unit.h"

/* Expected text, or "E-1" / "E-2" for that return code. */
static void
check_result(int rc, struct strbuf *sb, const char *expect, const char *what, const char *a,
             const char *b)
{
	if (expect[0] == 'E') {
		CHECK_INT(rc, atoi(expect + 1));
		CHECK_INT(sb->len, 0);
	} else {
		CHECK_INT(rc, 0);
		CHECK_STR(strbuf_str(sb), expect);
	}
	if ((expect[0] == 'E') != (rc != 0) || (rc == 0 && strcmp(strbuf_str(sb), expect) != 0))
		fprintf(stderr, "  in %s(\"%s\", \"%s\")\n", what, a, b);
}

static int
binary_op(char op, const char *a, const char *b, struct strbuf *sb)
{
	switch (op) {
	case '+':
		return pgnum_add(a, b, sb);
	case '-':
		return pgnum_sub(a, b, sb);
	case '*':
		return pgnum_mul(a, b, sb);
	default:
		return pgnum_div(a, b, sb);
	}
}

struct binary_case {
	char op;
	const char *a;
	const char *b;
	const char *expect;
};

static void
run_binary_cases(const struct binary_case *cases, size_t n)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		char what[2] = {cases[i].op, '\0'};

		strbuf_reset(&sb);
		check_result(binary_op(cases[i].op, cases[i].a, cases[i].b, &sb), &sb,
		             cases[i].expect, what, cases[i].a, cases[i].b);
	}
	strbuf_free(&sb);
}

static void
test_nan_and_infinity_follow_pg15_rules(void)
{
	/* SELECT a::numeric <op> b::numeric for every pair */
	static const struct binary_case cases[] = {
	        {'+', "NaN", "NaN", "NaN"},
	        {'-', "NaN", "NaN", "NaN"},
	        {'*', "NaN", "NaN", "NaN"},
	        {'/', "NaN", "NaN", "NaN"},
	        {'+', "NaN", "Infinity", "NaN"},
	        {'-', "NaN", "Infinity", "NaN"},
	        {'*', "NaN", "Infinity", "NaN"},
	        {'/', "NaN", "Infinity", "NaN"},
	        {'+', "NaN", "-Infinity", "NaN"},
	        {'-', "NaN", "-Infinity", "NaN"},
	        {'*', "NaN", "-Infinity", "NaN"},
	        {'/', "NaN", "-Infinity", "NaN"},
	        {'+', "NaN", "0", "NaN"},
	        {'-', "NaN", "0", "NaN"},
	        {'*', "NaN", "0", "NaN"},
	        {'/', "NaN", "0", "NaN"},
	        {'+', "NaN", "0.00", "NaN"},
	        {'-', "NaN", "0.00", "NaN"},
	        {'*', "NaN", "0.00", "NaN"},
	        {'/', "NaN", "0.00", "NaN"},
	        {'+', "NaN", "2.5", "NaN"},
	        {'-', "NaN", "2.5", "NaN"},
	        {'*', "NaN", "2.5", "NaN"},
	        {'/', "NaN", "2.5", "NaN"},
	        {'+', "NaN", "-2.5", "NaN"},
	        {'-', "NaN", "-2.5", "NaN"},
	        {'*', "NaN", "-2.5", "NaN"},
	        {'/', "NaN", "-2.5", "NaN"},
	        {'+', "Infinity", "NaN", "NaN"},
	        {'-', "Infinity", "NaN", "NaN"},
	        {'*', "Infinity", "NaN", "NaN"},
	        {'/', "Infinity", "NaN", "NaN"},
	        {'+', "Infinity", "Infinity", "Infinity"},
	        {'-', "Infinity", "Infinity", "NaN"},
	        {'*', "Infinity", "Infinity", "Infinity"},
	        {'/', "Infinity", "Infinity", "NaN"},
	        {'+', "Infinity", "-Infinity", "NaN"},
	        {'-', "Infinity", "-Infinity", "Infinity"},
	        {'*', "Infinity", "-Infinity", "-Infinity"},
	        {'/', "Infinity", "-Infinity", "NaN"},
	        {'+', "Infinity", "0", "Infinity"},
	        {'-', "Infinity", "0", "Infinity"},
	        {'*', "Infinity", "0", "NaN"},
	        {'/', "Infinity", "0", "E-2"},
	        {'+', "Infinity", "0.00", "Infinity"},
	        {'-', "Infinity", "0.00", "Infinity"},
	        {'*', "Infinity", "0.00", "NaN"},
	        {'/', "Infinity", "0.00", "E-2"},
	        {'+', "Infinity", "2.5", "Infinity"},
	        {'-', "Infinity", "2.5", "Infinity"},
	        {'*', "Infinity", "2.5", "Infinity"},
	        {'/', "Infinity", "2.5", "Infinity"},
	        {'+', "Infinity", "-2.5", "Infinity"},
	        {'-', "Infinity", "-2.5", "Infinity"},
	        {'*', "Infinity", "-2.5", "-Infinity"},
	        {'/', "Infinity", "-2.5", "-Infinity"},
	        {'+', "-Infinity", "NaN", "NaN"},
	        {'-', "-Infinity", "NaN", "NaN"},
	        {'*', "-Infinity", "NaN", "NaN"},
	        {'/', "-Infinity", "NaN", "NaN"},
	        {'+', "-Infinity", "Infinity", "NaN"},
	        {'-', "-Infinity", "Infinity", "-Infinity"},
	        {'*', "-Infinity", "Infinity", "-Infinity"},
	        {'/', "-Infinity", "Infinity", "NaN"},
	        {'+', "-Infinity", "-Infinity", "-Infinity"},
	        {'-', "-Infinity", "-Infinity", "NaN"},
	        {'*', "-Infinity", "-Infinity", "Infinity"},
	        {'/', "-Infinity", "-Infinity", "NaN"},
	        {'+', "-Infinity", "0", "-Infinity"},
	        {'-', "-Infinity", "0", "-Infinity"},
	        {'*', "-Infinity", "0", "NaN"},
	        {'/', "-Infinity", "0", "E-2"},
	        {'+', "-Infinity", "0.00", "-Infinity"},
	        {'-', "-Infinity", "0.00", "-Infinity"},
	        {'*', "-Infinity", "0.00", "NaN"},
	        {'/', "-Infinity", "0.00", "E-2"},
	        {'+', "-Infinity", "2.5", "-Infinity"},
	        {'-', "-Infinity", "2.5", "-Infinity"},
	        {'*', "-Infinity", "2.5", "-Infinity"},
	        {'/', "-Infinity", "2.5", "-Infinity"},
	        {'+', "-Infinity", "-2.5", "-Infinity"},
	        {'-', "-Infinity", "-2.5", "-Infinity"},
	        {'*', "-Infinity", "-2.5", "Infinity"},
	        {'/', "-Infinity", "-2.5", "Infinity"},
	        {'+', "0", "NaN", "NaN"},
	        {'-', "0", "NaN", "NaN"},
	        {'*', "0", "NaN", "NaN"},
	        {'/', "0", "NaN", "NaN"},
	        {'+', "0", "Infinity", "Infinity"},
	        {'-', "0", "Infinity", "-Infinity"},
	        {'*', "0", "Infinity", "NaN"},
	        {'/', "0", "Infinity", "0"},
	        {'+', "0", "-Infinity", "-Infinity"},
	        {'-', "0", "-Infinity", "Infinity"},
	        {'*', "0", "-Infinity", "NaN"},
	        {'/', "0", "-Infinity", "0"},
	        {'+', "0", "0", "0"},
	        {'-', "0", "0", "0"},
	        {'*', "0", "0", "0"},
	        {'/', "0", "0", "E-2"},
	        {'+', "0", "0.00", "0.00"},
	        {'-', "0", "0.00", "0.00"},
	        {'*', "0", "0.00", "0.00"},
	        {'/', "0", "0.00", "E-2"},
	        {'+', "0", "2.5", "2.5"},
	        {'-', "0", "2.5", "-2.5"},
	        {'*', "0", "2.5", "0.0"},
	        {'/', "0", "2.5", "0.00000000000000000000"},
	        {'+', "0", "-2.5", "-2.5"},
	        {'-', "0", "-2.5", "2.5"},
	        {'*', "0", "-2.5", "0.0"},
	        {'/', "0", "-2.5", "0.00000000000000000000"},
	        {'+', "0.00", "NaN", "NaN"},
	        {'-', "0.00", "NaN", "NaN"},
	        {'*', "0.00", "NaN", "NaN"},
	        {'/', "0.00", "NaN", "NaN"},
	        {'+', "0.00", "Infinity", "Infinity"},
	        {'-', "0.00", "Infinity", "-Infinity"},
	        {'*', "0.00", "Infinity", "NaN"},
	        {'/', "0.00", "Infinity", "0"},
	        {'+', "0.00", "-Infinity", "-Infinity"},
	        {'-', "0.00", "-Infinity", "Infinity"},
	        {'*', "0.00", "-Infinity", "NaN"},
	        {'/', "0.00", "-Infinity", "0"},
	        {'+', "0.00", "0", "0.00"},
	        {'-', "0.00", "0", "0.00"},
	        {'*', "0.00", "0", "0.00"},
	        {'/', "0.00", "0", "E-2"},
	        {'+', "0.00", "0.00", "0.00"},
	        {'-', "0.00", "0.00", "0.00"},
	        {'*', "0.00", "0.00", "0.0000"},
	        {'/', "0.00", "0.00", "E-2"},
	        {'+', "0.00", "2.5", "2.50"},
	        {'-', "0.00", "2.5", "-2.50"},
	        {'*', "0.00", "2.5", "0.000"},
	        {'/', "0.00", "2.5", "0.00000000000000000000"},
	        {'+', "0.00", "-2.5", "-2.50"},
	        {'-', "0.00", "-2.5", "2.50"},
	        {'*', "0.00", "-2.5", "0.000"},
	        {'/', "0.00", "-2.5", "0.00000000000000000000"},
	        {'+', "2.5", "NaN", "NaN"},
	        {'-', "2.5", "NaN", "NaN"},
	        {'*', "2.5", "NaN", "NaN"},
	        {'/', "2.5", "NaN", "NaN"},
	        {'+', "2.5", "Infinity", "Infinity"},
	        {'-', "2.5", "Infinity", "-Infinity"},
	        {'*', "2.5", "Infinity", "Infinity"},
	        {'/', "2.5", "Infinity", "0"},
	        {'+', "2.5", "-Infinity", "-Infinity"},
	        {'-', "2.5", "-Infinity", "Infinity"},
	        {'*', "2.5", "-Infinity", "-Infinity"},
	        {'/', "2.5", "-Infinity", "0"},
	        {'+', "2.5", "0", "2.5"},
	        {'-', "2.5", "0", "2.5"},
	        {'*', "2.5", "0", "0.0"},
	        {'/', "2.5", "0", "E-2"},
	        {'+', "2.5", "0.00", "2.50"},
	        {'-', "2.5", "0.00", "2.50"},
	        {'*', "2.5", "0.00", "0.000"},
	        {'/', "2.5", "0.00", "E-2"},
	        {'+', "2.5", "2.5", "5.0"},
	        {'-', "2.5", "2.5", "0.0"},
	        {'*', "2.5", "2.5", "6.25"},
	        {'/', "2.5", "2.5", "1.00000000000000000000"},
	        {'+', "2.5", "-2.5", "0.0"},
	        {'-', "2.5", "-2.5", "5.0"},
	        {'*', "2.5", "-2.5", "-6.25"},
	        {'/', "2.5", "-2.5", "-1.00000000000000000000"},
	        {'+', "-2.5", "NaN", "NaN"},
	        {'-', "-2.5", "NaN", "NaN"},
	        {'*', "-2.5", "NaN", "NaN"},
	        {'/', "-2.5", "NaN", "NaN"},
	        {'+', "-2.5", "Infinity", "Infinity"},
	        {'-', "-2.5", "Infinity", "-Infinity"},
	        {'*', "-2.5", "Infinity", "-Infinity"},
	        {'/', "-2.5", "Infinity", "0"},
	        {'+', "-2.5", "-Infinity", "-Infinity"},
	        {'-', "-2.5", "-Infinity", "Infinity"},
	        {'*', "-2.5", "-Infinity", "Infinity"},
	        {'/', "-2.5", "-Infinity", "0"},
	        {'+', "-2.5", "0", "-2.5"},
	        {'-', "-2.5", "0", "-2.5"},
	        {'*', "-2.5", "0", "0.0"},
	        {'/', "-2.5", "0", "E-2"},
	        {'+', "-2.5", "0.00", "-2.50"},
	        {'-', "-2.5", "0.00", "-2.50"},
	        {'*', "-2.5", "0.00", "0.000"},
	        {'/', "-2.5", "0.00", "E-2"},
	        {'+', "-2.5", "2.5", "0.0"},
	        {'-', "-2.5", "2.5", "-5.0"},
	        {'*', "-2.5", "2.5", "-6.25"},
	        {'/', "-2.5", "2.5", "-1.00000000000000000000"},
	        {'+', "-2.5", "-2.5", "-5.0"},
	        {'-', "-2.5", "-2.5", "0.0"},
	        {'*', "-2.5", "-2.5", "6.25"},
	        {'/', "-2.5", "-2.5", "1.00000000000000000000"},
	};

	run_binary_cases(cases, ARRAY_SIZE(cases));
}

static void
test_add_sub_mul_are_exact_at_pg_scale(void)
{
	static const struct binary_case cases[] = {
	        {'+', "1.50", "2", "3.50"},
	        {'-', "1.50", "2", "-0.50"},
	        {'+', "-0.01", "0.01", "0.00"},
	        {'-', "-0.01", "0.01", "-0.02"},
	        {'+', "1", "1.000", "2.000"},
	        {'-', "1", "1.000", "0.000"},
	        {'+', "99.99", "0.01", "100.00"},
	        {'-', "99.99", "0.01", "99.98"},
	        {'+', "-99.99", "-0.01", "-100.00"},
	        {'-', "-99.99", "-0.01", "-99.98"},
	        {'+', "0.1", "0.2", "0.3"},
	        {'-', "0.1", "0.2", "-0.1"},
	        {'+', "100", "-100.00", "0.00"},
	        {'-', "100", "-100.00", "200.00"},
	        {'+', "9999999999999999999", "1", "10000000000000000000"},
	        {'-', "9999999999999999999", "1", "9999999999999999998"},
	        {'+', "-1", "0.999", "-0.001"},
	        {'-', "-1", "0.999", "-1.999"},
	        {'+', "123456789.123456789", "-987654321.987654321", "-864197532.864197532"},
	        {'-', "123456789.123456789", "-987654321.987654321", "1111111111.111111110"},
	        {'+', "0", "-0.000", "0.000"},
	        {'-', "0", "-0.000", "0.000"},
	        {'*', "1.5", "-2.25", "-3.375"},
	        {'*', "0.1", "0.1", "0.01"},
	        {'*', "-0.01", "-0.01", "0.0001"},
	        {'*', "100", "0.00", "0.00"},
	        {'*', "12.50", "3", "37.50"},
	        {'*', "99999999999", "99999999999", "9999999999800000000001"},
	        {'*', "-1.000", "0", "0.000"},
	        {'*', "3.14159", "2.71828", "8.5397212652"},
	        {'*', "0.000001", "0.000001", "0.000000000001"},
	        {'*', "123456789012345678", "987654321098765432",
	         "121932631137021794322511812221002896"},
	        {'*', "0.3321", "19600133.90838637", "6509204.470975113477"},
	        {'+', "-265423511615.94078", "184959.103", "-265423326656.83778"},
	        {'+', "164.5255341", "-83.76", "80.7655341"},
	        {'*', "-83503056413.37672", "884.965328", "-73897309707866.43260236416"},
	        {'+', "-2.69", "978480.8", "978478.11"},
	        {'*', "14627", "48281489325.88", "706213344369646.76"},
	        {'*', "70154.039", "7.8", "547201.5042"},
	        {'+', "7824896383.6578", "315", "7824896698.6578"},
	        {'+', "301031051.34738299", "763116566701", "763417597752.34738299"},
	        {'-', "133387262473.7", "10801326.7360260", "133376461146.9639740"},
	        {'-', "746872343098", "0", "746872343098"},
	        {'*', "-20812191.619", "-91699854.534", "1908474943996033.950546"},
	        {'*', "-4751079911.38425135", "-8498084.2", "40375077127871906.526263670"},
	        {'+', "-82449353487.0164", "-24278.801128", "-82449377765.817528"},
	        {'-', "826204505.315", "-923226", "827127731.315"},
	        {'-', "-634216073375.3303", "1458.850142", "-634216074834.180442"},
	        {'-', "0.9", "56981693406", "-56981693405.1"},
	        {'*', "3561595148.6564", "-662.6804", "-2360199297749.68261456"},
	        {'-', "-995777387214.95134332", "-791.6936763", "-995777386423.25766702"},
	        {'*', "-0.6", "870831727889.79868", "-522499036733.879208"},
	        {'+', "77434873471.3455", "2.36", "77434873473.7055"},
	        {'*', "166.87603", "909670.46688", "151802196.1211808864"},
	        {'+', "3467065.272980", "-901627204.537556", "-898160139.264576"},
	        {'-', "1708", "-31003.092", "32711.092"},
	        {'-', "1937452991.41", "9663.9", "1937443327.51"},
	        {'*', "149.9", "86518.06716", "12969058.267284"},
	        {'*', "-2628498.7694531", "-3799650.5273545", "9987376735503.12573055482395"},
	        {'*', "48083136783.7701436", "-9578.56855744", "-460567622140107.385587193648384"},
	        {'+', "-35182337498.1343", "824", "-35182336674.1343"},
	        {'*', "-2710.7775", "0.7116", "-1928.98926900"},
	        {'*', "229413186.867", "9649", "2213607840079.683"},
	        {'*', "-3.412", "-12067974", "41175927.288"},
	        {'*', "-7134.618", "-42.0", "299653.9560"},
	        {'-', "-947174648.77190659", "3", "-947174651.77190659"},
	        {'*', "-9027.74296717", "-51256.4680715", "462730219.154457777712655"},
	        {'+', "680876038597.0348247", "1093248", "680877131845.0348247"},
	        {'+', "171.74", "6773.8263982", "6945.5663982"},
	        {'-', "658404499727.75588675", "-39636057662.0289517", "698040557389.78483845"},
	        {'-', "-0.62", "459615865780.3", "-459615865780.92"},
	        {'-', "-161.7", "-50.5562", "-111.1438"},
	};

	run_binary_cases(cases, ARRAY_SIZE(cases));
}

static void
test_div_scale_and_rounding_match_numeric_div(void)
{
	/* SELECT a::numeric / b::numeric; the three 5.1000, 92.1000000 and 10000.0 cases take
	 * the add-back step of the long division */
	static const struct {
		const char *a;
		const char *b;
		const char *expect;
	} cases[] = {
	        {"1", "3", "0.33333333333333333333"},
	        {"2", "3", "0.66666666666666666667"},
	        {"10", "4", "2.5000000000000000"},
	        {"1", "7000", "0.00014285714285714286"},
	        {"123456789", "0.001", "123456789000.00000000"},
	        {"0", "5", "0.00000000000000000000"},
	        {"-7", "2", "-3.5000000000000000"},
	        {"1.5000", "3", "0.50000000000000000000"},
	        {"7", "3", "2.3333333333333333"},
	        {"1000000000000", "7", "142857142857.14285714"},
	        {"1", "8", "0.12500000000000000000"},
	        {"-1", "8", "-0.12500000000000000000"},
	        {"5", "0.5", "10.0000000000000000"},
	        {"0.5", "5", "0.10000000000000000000"},
	        {"1", "9999", "0.00010001000100010001"},
	        {"1", "10000", "0.000100000000000000000000"},
	        {"9999", "10000", "0.99990000000000000000"},
	        {"10000", "9999", "1.0001000100010001"},
	        {"1", "1", "1.00000000000000000000"},
	        {"12345.678", "1", "12345.6780000000000000"},
	        {"1", "0.0001", "10000.0000000000000000"},
	        {"0.0001", "1", "0.000100000000000000000000"},
	        {"0.00001", "3", "0.000003333333333333333333"},
	        {"100", "7", "14.2857142857142857"},
	        {"-2", "-3", "0.66666666666666666667"},
	        {"2", "-3", "-0.66666666666666666667"},
	        {"0.00", "-3.0", "0.00000000000000000000"},
	        {"355", "113", "3.1415929203539823"},
	        {"1.00000000000000000000000001", "3", "0.33333333333333333333333334"},
	        {"22", "7.000000000000000000000000", "3.142857142857142857142857"},
	        {"5.1000", "1000000000000000000000.5",
	         "0.0000000000000000000051000000000000000000"},
	        {"92.1000000", "10000000000000000000000000000000000000000000000.1250532303",
	         "0.0000000000000000000000000000000000000000000092100000000000000000"},
	        {"10000.0", "1000000000000000000000000000000000.0990",
	         "0.000000000000000000000000000010000000000000000000"},
	        {"123456789012345678901234567890", "987654321098765432109876543210.123",
	         "0.12499999886093750001"},
	        {"1", "3333333333333333333333333333333333333333",
	         "0.00000000000000000000000000000000000000030000000000000000"},
	        {"2222222222222222222222222222222222222222", "7",
	         "317460317460317460317460317460317460317"},
	        {"0.5", "0.000000000000000000000000000001",
	         "500000000000000000000000000000.000000000000000000000000000000"},
	        {"0.0000000000000000000000000000000000005", "3",
	         "0.00000000000000000000000000000000000016666666666666666667"},
	        {"19.99", "4", "4.9975000000000000"},
	        {"1.25", "100", "0.01250000000000000000"},
	        {"0.125", "1000", "0.00012500000000000000"},
	        {"-0.125", "1000", "-0.00012500000000000000"},
	        {"922219.937923", "-7407.82", "-124.4927573730193228"},
	        {"-94647.3671", "594406409.097439", "-0.00015923005817470044"},
	        {"-394.10", "952145.62328", "-0.00041390727464816163"},
	        {"88424.4517123", "-6851604817.49", "-0.000012905655546067117663"},
	        {"5137098593.7", "-6120", "-839395.195049019608"},
	        {"1138267.86926", "9640537.351", "0.11807099830819378566"},
	        {"85064.171", "-9005329318.9", "-0.000009445981150458424242"},
	        {"-529", "28.21", "-18.7522155264090748"},
	        {"0.05", "-950.4", "-0.000052609427609427609428"},
	        {"68117758917.39084700", "-617711.92", "-110274.315116649922"},
	        {"9985.984789", "-8.36736", "-1193.4450996491127428"},
	        {"-6615654.27111", "-5.280988", "1252730.411640776309"},
	        {"-6.60494", "832731585", "-0.0000000079316554325245150873"},
	        {"-368998094", "-5502.296120", "67062.565509469527"},
	        {"-36675254.99102", "-14767976.38", "2.4834313143057722"},
	        {"-149784", "-3432445", "0.04363769849189134859"},
	        {"62268388516", "-1596966.16", "-38991.676890636180"},
	        {"-29751.136968", "5352", "-5.5588820941704036"},
	        {"-8.35523124", "-212779979.95527", "0.000000039266998905425279"},
	        {"-4490581.7700", "1199.6798", "-3743.1502722643158616"},
	        {"7935978207.5", "8.20377", "967357471.93058801"},
	        {"-255466590.15186", "9251925462.1486", "-0.02761226203097104219"},
	        {"-28168.05423", "3322141.8805", "-0.00847888357668834969"},
	        {"296222927", "3794738347.359774", "0.07806148932668835355"},
	        {"86239240.5818141", "7826", "11019.580958575786"},
	        {"750.068536", "30515.220472", "0.02458014474082676390"},
	        {"7901043.89", "-4.4", "-1795691.793181818182"},
	        {"697.1", "9808932.60", "0.000071067875417963418364"},
	        {"962.8", "-8.8880", "-108.3258325832583258"},
	        {"-654051.31952", "-52772217", "0.01239385716010377203"},
	};
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&sb);
		check_result(pgnum_div(cases[i].a, cases[i].b, &sb), &sb, cases[i].expect, "div",
		             cases[i].a, cases[i].b);
	}
	strbuf_free(&sb);
}

static void
test_round_and_trunc_match_pg(void)
{
	/* SELECT round(a::numeric, s), trunc(a::numeric, s) */
	static const struct {
		bool round;
		const char *a;
		int scale;
		const char *expect;
	} cases[] = {
	        {true, "1234.5", -2, "1200"},
	        {false, "1234.5", -2, "1200"},
	        {true, "1234.5", 0, "1235"},
	        {false, "1234.5", 0, "1234"},
	        {true, "2.5", 0, "3"},
	        {false, "2.5", 0, "2"},
	        {true, "-2.5", 0, "-3"},
	        {false, "-2.5", 0, "-2"},
	        {true, "0.5", 0, "1"},
	        {false, "0.5", 0, "0"},
	        {true, "-0.5", 0, "-1"},
	        {false, "-0.5", 0, "0"},
	        {true, "1.5", 3, "1.500"},
	        {false, "1.5", 3, "1.500"},
	        {true, "0.045", 2, "0.05"},
	        {false, "0.045", 2, "0.04"},
	        {true, "-0.045", 2, "-0.05"},
	        {false, "-0.045", 2, "-0.04"},
	        {true, "9.995", 2, "10.00"},
	        {false, "9.995", 2, "9.99"},
	        {true, "-9.995", 2, "-10.00"},
	        {false, "-9.995", 2, "-9.99"},
	        {true, "999.5", 0, "1000"},
	        {false, "999.5", 0, "999"},
	        {true, "1234.5", -4, "0"},
	        {false, "1234.5", -4, "0"},
	        {true, "5000", -4, "10000"},
	        {false, "5000", -4, "0"},
	        {true, "4999.99", -4, "0"},
	        {false, "4999.99", -4, "0"},
	        {true, "15", -1, "20"},
	        {false, "15", -1, "10"},
	        {true, "-15", -1, "-20"},
	        {false, "-15", -1, "-10"},
	        {true, "99999", -5, "100000"},
	        {false, "99999", -5, "0"},
	        {true, "49999", -5, "0"},
	        {false, "49999", -5, "0"},
	        {true, "0.00", 1, "0.0"},
	        {false, "0.00", 1, "0.0"},
	        {true, "0", -3, "0"},
	        {false, "0", -3, "0"},
	        {true, "123.456", 1, "123.5"},
	        {false, "123.456", 1, "123.4"},
	        {true, "123.456", 5, "123.45600"},
	        {false, "123.456", 5, "123.45600"},
	        {true, "305486874034.05415", 4, "305486874034.0542"},
	        {false, "527758.1616", -3, "527000"},
	        {false, "11544.9627570", 3, "11544.962"},
	        {false, "-165.20297021", 3, "-165.202"},
	        {false, "-909275.71928", 2, "-909275.71"},
	        {false, "-102.8681447", 1, "-102.8"},
	        {false, "121.2715518", 1, "121.2"},
	        {true, "-25831323705.95782911", 7, "-25831323705.9578291"},
	        {false, "691251778528.26", -7, "691250000000"},
	        {true, "-24225358.1438", 1, "-24225358.1"},
	        {true, "29922995", -8, "0"},
	        {true, "0.3969", 7, "0.3969000"},
	        {false, "-4736471027.773592", 2, "-4736471027.77"},
	        {false, "258815.714", -4, "250000"},
	        {true, "0.6963", -3, "0"},
	        {false, "-532787747", 4, "-532787747.0000"},
	        {false, "-395", 7, "-395.0000000"},
	        {false, "8016.45", 3, "8016.450"},
	        {true, "98358.1687", 0, "98358"},
	        {true, "16.58523", 4, "16.5852"},
	};
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc;

		strbuf_reset(&sb);
		if (cases[i].round)
			rc = pgnum_round(cases[i].a, cases[i].scale, &sb);
		else
			rc = pgnum_trunc(cases[i].a, cases[i].scale, &sb);
		check_result(rc, &sb, cases[i].expect, cases[i].round ? "round" : "trunc",
		             cases[i].a, "");
	}
	/* NaN and the infinities come back unchanged */
	strbuf_reset(&sb);
	CHECK_INT(pgnum_round("NaN", 2, &sb), 0);
	CHECK_INT(pgnum_trunc("-Infinity", -2, &sb), 0);
	CHECK_INT(pgnum_round("Infinity", 0, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "NaN-InfinityInfinity");
	strbuf_free(&sb);
}

static void
test_in_normalises_like_numeric_in(void)
{
	/* SELECT s::numeric::text; NULL where the server raises an error */
	static const struct {
		const char *s;
		const char *expect;
	} cases[] = {
	        {" +1.500e1 ", "15.00"},
	        {".5", "0.5"},
	        {"-0", "0"},
	        {"1e-3", "0.001"},
	        {"007", "7"},
	        {"-0.00", "0.00"},
	        {"5.", "5"},
	        {"1.e5", "100000"},
	        {"+.5", "0.5"},
	        {"-.5e1", "-5"},
	        {"1e 5", "100000"},
	        {"1e\n5", "100000"},
	        {"1E+2", "100"},
	        {"1.5e-1", "0.15"},
	        {"123.456e2", "12345.6"},
	        {"1.23456e-2", "0.0123456"},
	        {"0e1000000000", "0"},
	        {"0.000e5", "0"},
	        {"0.000e2", "0.0"},
	        {"100e-2", "1.00"},
	        {"\t\n 42 \r\f\v", "42"},
	        {"NaN", "NaN"},
	        {"nan", "NaN"},
	        {" NAN ", "NaN"},
	        {"Infinity", "Infinity"},
	        {"infinity", "Infinity"},
	        {"+Infinity", "Infinity"},
	        {"-Infinity", "-Infinity"},
	        {"inf", "Infinity"},
	        {"+inf", "Infinity"},
	        {"-inf", "-Infinity"},
	        {"-INF", "-Infinity"},
	        {"InF ", "Infinity"},
	        {"0001.2300", "1.2300"},
	        {"-000", "0"},
	        {"1e0", "1"},
	        {"1e-0", "1"},
	        {"1e+0", "1"},
	        {"999999999999999999999999999999e-30", "0.999999999999999999999999999999"},
	        {"1e1000",
	         "100000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "00000000000000000000000000000"},
	        {"1e-1000",
	         "0."
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	         "0000000000000000000000000001"},
	        {"", NULL},
	        {" ", NULL},
	        {"-", NULL},
	        {"+", NULL},
	        {".", NULL},
	        {"-.", NULL},
	        {"e5", NULL},
	        {"1e", NULL},
	        {"1e+", NULL},
	        {"1e+ 5", NULL},
	        {"1e5x", NULL},
	        {"1 2", NULL},
	        {"1..2", NULL},
	        {"1.2.3", NULL},
	        {"0x10", NULL},
	        {"1_000", NULL},
	        {"infinit", NULL},
	        {"nanx", NULL},
	        {"+nan", NULL},
	        {"-nan", NULL},
	        {"Infinityx", NULL},
	        {"+-1", NULL},
	        {"--1", NULL},
	        {"1e1073741823", NULL},
	        {"1e-1073741823", NULL},
	        {"1e99999999999", NULL},
	        {"0e-16384", NULL},
	        {"1e-16384", NULL},
	        {"1e131072", NULL},
	        {"1e131071x", NULL},
	        {"1,5", NULL},
	        {"\357\274\221", NULL},
	};
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc;

		strbuf_reset(&sb);
		rc = pgnum_in(cases[i].s, strlen(cases[i].s), &sb);
		if (cases[i].expect == NULL) {
			CHECK_INT(rc, -1);
			CHECK_INT(sb.len, 0);
		} else {
			CHECK_INT(rc, 0);
			CHECK_STR(strbuf_str(&sb), cases[i].expect);
		}
		if ((rc == 0) != (cases[i].expect != NULL))
			fprintf(stderr, "  in pgnum_in(\"%s\")\n", cases[i].s);
	}
	/* the length counts, not a NUL; an embedded NUL is rejected */
	strbuf_reset(&sb);
	CHECK_INT(pgnum_in("12.50xyz", 5, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "12.50");
	strbuf_reset(&sb);
	CHECK_INT(pgnum_in("1\0", 2, &sb), -1);
	CHECK_INT(pgnum_in("", 0, &sb), -1);
	CHECK_INT(pgnum_in(NULL, 0, &sb), -1);
	CHECK_INT(sb.len, 0);
	strbuf_free(&sb);
}

static void
test_typmod_rounds_and_detects_field_overflow(void)
{
	/* SELECT a::numeric::numeric(p, s); NULL for "numeric field overflow" */
	static const struct {
		const char *a;
		int precision;
		int scale;
		const char *expect;
	} cases[] = {
	        {"123.456", 5, 2, "123.46"}, {"1234.5", 5, 2, NULL},
	        {"99.995", 4, 2, NULL},      {"99.994", 4, 2, "99.99"},
	        {"-99.995", 4, 2, NULL},     {"0.001", 2, 3, "0.001"},
	        {"0.0995", 2, 3, NULL},      {"0.0994", 2, 3, "0.099"},
	        {"0.1", 2, 3, NULL},         {"12345", 3, -2, "12300"},
	        {"99949", 3, -2, "99900"},   {"99950", 3, -2, NULL},
	        {"NaN", 3, 1, "NaN"},        {"Infinity", 3, 1, NULL},
	        {"-Infinity", 10, 0, NULL},  {"0", 1, 0, "0"},
	        {"0.5", 1, 0, "1"},          {"-0.5", 1, 0, "-1"},
	        {"9.5", 1, 0, NULL},         {"9.4", 1, 0, "9"},
	        {"1.5", 10, 2, "1.50"},      {"-0.004", 3, 2, "0.00"},
	        {"-0.005", 3, 2, "-0.01"},   {"123.456", 1000, 1000, NULL},
	        {"1", 1, -1000, "0"},        {"0.00000", 5, 2, "0.00"},
	        {"12.345", 4, 0, "12"},      {"12345.6", 4, 0, NULL},
	};
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc;

		strbuf_reset(&sb);
		rc = pgnum_typmod(cases[i].a, cases[i].precision, cases[i].scale, &sb);
		if (cases[i].expect == NULL) {
			CHECK_INT(rc, -1);
			CHECK_INT(sb.len, 0);
		} else {
			CHECK_INT(rc, 0);
			CHECK_STR(strbuf_str(&sb), cases[i].expect);
		}
		if ((rc == 0) != (cases[i].expect != NULL))
			fprintf(stderr, "  in pgnum_typmod(\"%s\", %d, %d)\n", cases[i].a,
			        cases[i].precision, cases[i].scale);
	}
	/* typmods numerictypmodin() refuses */
	strbuf_reset(&sb);
	CHECK_INT(pgnum_typmod("1", 0, 0, &sb), -1);
	CHECK_INT(pgnum_typmod("1", 1001, 0, &sb), -1);
	CHECK_INT(pgnum_typmod("1", 5, 1001, &sb), -1);
	CHECK_INT(pgnum_typmod("1", 5, -1001, &sb), -1);
	CHECK_INT(pgnum_typmod("1.5", 5, 1, &sb), 0);
	CHECK_INT(pgnum_typmod("1.", 5, 1, &sb), -1);
	CHECK_STR(strbuf_str(&sb), "1.5");
	strbuf_free(&sb);
}

static int
sign_of(int v)
{
	return (v > 0) - (v < 0);
}

static void
test_cmp_orders_like_numeric_cmp(void)
{
	/* sorted by v::numeric, with dense_rank() over that order */
	static const struct {
		const char *v;
		int rank;
	} cases[] = {
	        {"-Infinity", 1},
	        {"-1000000000000000000000", 2},
	        {"-100", 3},
	        {"-1", 4},
	        {"-1.00", 4},
	        {"-0.1", 5},
	        {"-0.09", 6},
	        {"-0.0000000000000000000001", 7},
	        {"-0", 8},
	        {"0", 8},
	        {"0.00", 8},
	        {"0.0000000000000000000001", 9},
	        {"0.09", 10},
	        {"0.099999", 11},
	        {"0.1", 12},
	        {"0.10", 12},
	        {"1", 13},
	        {"1.0", 13},
	        {"1.000", 13},
	        {"9.99", 14},
	        {"10", 15},
	        {"99.999", 16},
	        {"100", 17},
	        {"123.4559999", 18},
	        {"00123.456", 19},
	        {"123.456", 19},
	        {"123.4560", 19},
	        {"123.45600001", 20},
	        {"12345678901234567890.49", 21},
	        {"12345678901234567890.5", 22},
	        {"1000000000000000000000", 23},
	        {"Infinity", 24},
	        {"NaN", 25},
	};
	static const char *const malformed[] = {"", " 1", "+1", "1e5", "1.", "abc", "nan", "zzz"};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (j = 0; j < ARRAY_SIZE(cases); j++) {
			int c = pgnum_cmp(cases[i].v, strlen(cases[i].v), cases[j].v,
			                  strlen(cases[j].v));

			CHECK_INT(sign_of(c), sign_of(cases[i].rank - cases[j].rank));
		}
		/* anything malformed sorts after every value, NaN included */
		for (j = 0; j < ARRAY_SIZE(malformed); j++) {
			CHECK(pgnum_cmp(cases[i].v, strlen(cases[i].v), malformed[j],
			                strlen(malformed[j])) < 0);
			CHECK(pgnum_cmp(malformed[j], strlen(malformed[j]), cases[i].v,
			                strlen(cases[i].v)) > 0);
		}
	}
	/* and bytewise among itself, a prefix first */
	for (i = 0; i < ARRAY_SIZE(malformed); i++)
		for (j = 0; j < ARRAY_SIZE(malformed); j++)
			CHECK_INT(sign_of(pgnum_cmp(malformed[i], strlen(malformed[i]),
			                            malformed[j], strlen(malformed[j]))),
			          sign_of(strcmp(malformed[i], malformed[j])));
	/* lengths, not NULs, bound the text */
	CHECK_INT(pgnum_cmp("1.50xyz", 4, "1.5", 3), 0);
	CHECK(pgnum_cmp("1.50", 3, "1.5", 3) == 0);
	CHECK(pgnum_cmp("10", 1, "2", 1) < 0);
	CHECK(pgnum_cmp(NULL, 0, "1", 1) > 0);
	CHECK(pgnum_cmp(NULL, 5, "abc", 3) < 0);
}

static void
test_malformed_operands_append_nothing(void)
{
	static const char *const bad[] = {
	        "",    " 1", "1 ",    "+1",  "1.",  ".5", "1e5",       "nan",       "inf",   "-NaN",
	        "--1", "-",  "1.2.3", "0x1", "1,5", "１", "-infinity", "Infinity ", "NaN\n",
	};
	struct strbuf sb;
	char *huge_int, *huge_frac;
	size_t i;

	strbuf_init(&sb);
	strbuf_puts(&sb, "keep");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_INT(pgnum_add(bad[i], "1", &sb), -1);
		CHECK_INT(pgnum_sub("1", bad[i], &sb), -1);
		CHECK_INT(pgnum_mul(bad[i], "NaN", &sb), -1);
		CHECK_INT(pgnum_div("NaN", bad[i], &sb), -1);
		CHECK_INT(pgnum_div(bad[i], "0", &sb), -1);
		CHECK_INT(pgnum_round(bad[i], 0, &sb), -1);
		CHECK_INT(pgnum_trunc(bad[i], 0, &sb), -1);
		CHECK_INT(pgnum_typmod(bad[i], 10, 2, &sb), -1);
	}
	CHECK_INT(pgnum_add(NULL, "1", &sb), -1);
	CHECK_INT(pgnum_mul("1", NULL, &sb), -1);
	/* more digits than numeric can store on either side of the point */
	huge_int = xmalloc(131074);
	memset(huge_int, '9', 131073);
	huge_int[131073] = '\0';
	huge_frac = xmalloc(16387);
	memcpy(huge_frac, "0.", 2);
	memset(huge_frac + 2, '1', 16384);
	huge_frac[16386] = '\0';
	CHECK_INT(pgnum_add(huge_int, "0", &sb), -1);
	CHECK_INT(pgnum_add(huge_frac, "0", &sb), -1);
	CHECK(pgnum_cmp(huge_frac, strlen(huge_frac), "NaN", 3) > 0);
	CHECK_STR(strbuf_str(&sb), "keep");
	/* results append */
	CHECK_INT(pgnum_add("1", "2", &sb), 0);
	CHECK_STR(strbuf_str(&sb), "keep3");
	free(huge_int);
	free(huge_frac);
	strbuf_free(&sb);
}

/* c repeated n times after prefix and before suffix, in a fresh string. */
static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = xmalloc(pl + n + sl + 1);

	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static void
test_storage_limits_match_pg(void)
{
	struct strbuf sb;
	char *max_int = repeat("", '9', 131072, "");
	char *one_max = repeat("1", '0', 131071, "");
	char *tiny = repeat("0.", '0', 16382, "1");
	char *half_tiny = repeat("0.", '0', 10000, "5");
	char *one_tiny = repeat("1.", '0', 10000, "1");
	char *expect;

	strbuf_init(&sb);
	/* 131072 digits before the point fit, one more overflows */
	CHECK_INT(pgnum_in(one_max, strlen(one_max), &sb), 0);
	CHECK_STR(strbuf_str(&sb), one_max);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_in("1e131071", 8, &sb), 0);
	CHECK_STR(strbuf_str(&sb), one_max);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_in("1e131072", 8, &sb), -1);
	CHECK_INT(pgnum_add(max_int, "1", &sb), -1);
	CHECK_INT(pgnum_add(max_int, "0.1", &sb), 0);
	CHECK_INT(sb.len, 131074);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_sub(max_int, max_int, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "0");
	strbuf_reset(&sb);
	CHECK_INT(pgnum_mul(one_max, "10", &sb), -1);
	CHECK_INT(pgnum_mul(one_max, "0.1", &sb), 0);
	CHECK_INT(sb.len, 131073);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_div(one_max, "0.1", &sb), -1);
	CHECK_INT(pgnum_round(max_int, -1, &sb), -1);
	/* 16383 digits after the point fit, one more overflows */
	CHECK_INT(pgnum_in("1e-16383", 8, &sb), 0);
	CHECK_STR(strbuf_str(&sb), tiny);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_in("1e-16384", 8, &sb), -1);
	CHECK_INT(pgnum_in("0e-16384", 8, &sb), -1);
	CHECK_INT(pgnum_in("0e1000000000", 12, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "0");
	strbuf_reset(&sb);
	/* a product with more than 16383 digits after the point is rounded to 16383 */
	CHECK_INT(pgnum_mul(half_tiny, one_tiny, &sb), 0);
	expect = repeat(half_tiny, '0', 16383 - 10001, "");
	CHECK_STR(strbuf_str(&sb), expect);
	free(expect);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_mul(tiny, tiny, &sb), 0);
	expect = repeat("0.", '0', 16383, "");
	CHECK_STR(strbuf_str(&sb), expect);
	free(expect);
	strbuf_reset(&sb);
	/* the quotient's scale stops at 1000 even when an operand's is larger */
	CHECK_INT(pgnum_div("1", tiny, &sb), 0);
	expect = repeat("1", '0', 16383, ".");
	CHECK_INT(sb.len, 16384 + 1 + 1000);
	CHECK(strncmp(strbuf_str(&sb), expect, 16385) == 0);
	free(expect);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_div(tiny, "3", &sb), 0);
	expect = repeat("0.", '0', 1000, "");
	CHECK_STR(strbuf_str(&sb), expect);
	free(expect);
	strbuf_reset(&sb);
	/* round() and trunc() clamp the scale to [-131072, 16383] */
	CHECK_INT(pgnum_round("0.5", INT_MAX, &sb), 0);
	expect = repeat("0.5", '0', 16382, "");
	CHECK_STR(strbuf_str(&sb), expect);
	free(expect);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_round("-0.5", INT_MIN, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "0");
	strbuf_reset(&sb);
	CHECK_INT(pgnum_trunc(max_int, -131071, &sb), 0);
	expect = repeat("9", '0', 131071, "");
	CHECK_STR(strbuf_str(&sb), expect);
	free(expect);
	strbuf_reset(&sb);
	CHECK_INT(pgnum_trunc(max_int, -131072, &sb), 0);
	CHECK_STR(strbuf_str(&sb), "0");
	free(max_int);
	free(one_max);
	free(tiny);
	free(half_tiny);
	free(one_tiny);
	strbuf_free(&sb);
}

/* Deterministic values of up to 30 digits with up to 12 after the point, often signed. */
static void
random_value(uint32_t *state, char *buf)
{
	int idigits, fdigits, i, n = 0;

	*state = *state * 1103515245u + 12345u;
	idigits = (int)(*state >> 16) % 19;
	*state = *state * 1103515245u + 12345u;
	fdigits = (int)(*state >> 16) % 13;
	if ((*state >> 8) & 1)
		buf[n++] = '-';
	buf[n++] = (char)('1' + (*state >> 20) % 9);
	for (i = 1; i < idigits; i++) {
		*state = *state * 1103515245u + 12345u;
		buf[n++] = (char)('0' + (*state >> 16) % 10);
	}
	if (fdigits > 0) {
		buf[n++] = '.';
		for (i = 0; i < fdigits; i++) {
			*state = *state * 1103515245u + 12345u;
			buf[n++] = (char)('0' + (*state >> 16) % 10);
		}
	}
	buf[n] = '\0';
}

static void
test_arithmetic_identities_hold(void)
{
	struct strbuf s1, s2, s3;
	uint32_t state = 20240601;
	char a[64], b[64];
	int i;

	strbuf_init(&s1);
	strbuf_init(&s2);
	strbuf_init(&s3);
	for (i = 0; i < 2000; i++) {
		random_value(&state, a);
		random_value(&state, b);
		strbuf_reset(&s1);
		strbuf_reset(&s2);
		strbuf_reset(&s3);
		/* a + b = b + a, a * b = b * a */
		CHECK_INT(pgnum_add(a, b, &s1), 0);
		CHECK_INT(pgnum_add(b, a, &s2), 0);
		CHECK_STR(strbuf_str(&s1), strbuf_str(&s2));
		/* (a + b) - b = a */
		CHECK_INT(pgnum_sub(strbuf_str(&s1), b, &s3), 0);
		CHECK_INT(pgnum_cmp(s3.data, s3.len, a, strlen(a)), 0);
		strbuf_reset(&s1);
		strbuf_reset(&s2);
		strbuf_reset(&s3);
		CHECK_INT(pgnum_mul(a, b, &s1), 0);
		CHECK_INT(pgnum_mul(b, a, &s2), 0);
		CHECK_STR(strbuf_str(&s1), strbuf_str(&s2));
		/* (a * b) / b = a: the quotient's scale is at least the product's */
		CHECK_INT(pgnum_div(strbuf_str(&s1), b, &s3), 0);
		CHECK_INT(pgnum_cmp(s3.data, s3.len, a, strlen(a)), 0);
		/* cmp(a, b) has the sign of a - b */
		strbuf_reset(&s1);
		CHECK_INT(pgnum_sub(a, b, &s1), 0);
		CHECK_INT(sign_of(pgnum_cmp(a, strlen(a), b, strlen(b))),
		          sign_of(pgnum_cmp(s1.data, s1.len, "0", 1)));
	}
	strbuf_free(&s1);
	strbuf_free(&s2);
	strbuf_free(&s3);
}

int
main(void)
{
	RUN(test_nan_and_infinity_follow_pg15_rules);
	RUN(test_add_sub_mul_are_exact_at_pg_scale);
	RUN(test_div_scale_and_rounding_match_numeric_div);
	RUN(test_round_and_trunc_match_pg);
	RUN(test_in_normalises_like_numeric_in);
	RUN(test_typmod_rounds_and_detects_field_overflow);
	RUN(test_cmp_orders_like_numeric_cmp);
	RUN(test_malformed_operands_append_nothing);
	RUN(test_storage_limits_match_pg);
	RUN(test_arithmetic_identities_hold);
	return unit_done();
}
