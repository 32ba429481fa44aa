/* SPDX-License-Identifier: MIT */
/* sqledge: command line, configuration loading, then the master process in the foreground. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"
#include "hba.h"
#include "log.h"
#include "master.h"
#include "tls.h"
#include "util.h"
#include "version.h"

static void
main_usage(FILE *out)
{
	fprintf(out,
	        "usage: sqledge [-c FILE] [--check-config]\n"
	        "       sqledge --version | --help\n"
	        "\n"
	        "Replicates an upstream PostgreSQL database into a local SQLite file.\n"
	        "\n"
	        "  -c, --config FILE   read FILE (default: built-in defaults and SQLEDGE_* "
	        "variables only)\n"
	        "      --check-config  validate the configuration and exit\n"
	        "  -V, --version       print the version and exit\n"
	        "  -h, --help          print this help and exit\n"
	        "\n"
	        "SQLEDGE_<SECTION>_<KEY> environment variables override the file; see sqledge(8)\n"
	        "and sqledge.ini(5).\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'C'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	struct cfg *cfg = NULL;
	enum log_level level;
	int check = 0;
	int opt;

	log_set_role("master");
	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			printf("sqledge %s\n", SQLEDGE_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sqledge: unexpected argument \"%s\"\n", argv[optind]);
		main_usage(stderr);
		return 1;
	}

	/* cfg_load() writes every problem to stderr itself */
	if (cfg_load(path, stderr, &cfg) < 0)
		return 1;
	if (log_level_parse(cfg->log_level, &level) < 0) {
		fprintf(stderr, "sqledge: invalid log level \"%s\"\n", cfg->log_level);
		cfg_free(cfg);
		return 1;
	}
	{
		/* a certificate that cannot be used stops sqledge here, with the reason */
		struct strbuf err;
		SSL_CTX *ctx;

		strbuf_init(&err);
		ctx = tls_server_ctx(cfg, &err);
		SSL_CTX_free(ctx);
		if (err.len == 0)
			(void)hba_check_cfg(cfg, &err);
		while (err.len > 0 && err.data[err.len - 1] == '\n')
			err.data[--err.len] = '\0';
		if (err.len > 0) {
			fprintf(stderr, "sqledge: %s\n", strbuf_str(&err));
			strbuf_free(&err);
			cfg_free(cfg);
			return 1;
		}
		strbuf_free(&err);
	}
	if (check) {
		printf("configuration OK\n");
		cfg_free(cfg);
		return 0;
	}
	log_set_level(level);
	return master_run(cfg);
}
