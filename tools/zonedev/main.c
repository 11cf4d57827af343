// SPDX-License-Identifier: MIT
/*
 * main.c - the zonedev command line: subcommand dispatch, `--help`, and
 * the options of `zonedev run` (-v, --trace, --stats, --deadline). Reads
 * the scenario (a file or standard input), parses all of it, then runs it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static const char usage_text[] =
	"usage: zonedev run [-v] [--trace FILE] [--stats] [--deadline SECONDS]\n"
	"                   [--fail SITE[:probability=P][,interval=N][,times=K]]... FILE|-\n"
	"       zonedev --help\n"
	"\n"
	"Runs a ZONE_DEVICE scenario (.zds, see docs/scenario-language.md);\n"
	"'-' reads it from standard input.\n"
	"\n"
	"  -v                 print each command and its outcome\n"
	"  --trace FILE       write lifecycle events as Chrome trace JSON (Perfetto)\n"
	"  --stats            print the machine's counters at the end\n"
	"  --deadline SECONDS how long unbind waits for held pages (default 10;\n"
	"                     0: do not wait)\n"
	"  --fail SPEC        inject failures at a site: page_alloc, pgmap_setup,\n"
	"                     device_alloc, pgtable_alloc, vma_alloc (seeded by the\n"
	"                     scenario's system seed=)\n"
	"\n"
	"Exit status: 0 all held, 1 an expectation, invariant or leak failed,\n"
	"2 bad usage or a scenario that does not parse.\n";

static int usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

/* The whole input, NUL-terminated; a read error is its real errno (EISDIR, EBADF). */
static int read_all(FILE *f, char **out, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int err = 0;

	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nbuf;

			cap = cap ? cap * 2 : 65536;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		errno = 0;
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			err = errno;
			break;
		}
	}
	if (ferror(f)) {
		free(buf);
		return -(err ? err : EIO);
	}
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

/* SECONDS >= 0; 0 is "do not wait"; beyond 2^64 ns it saturates (forever). */
static int parse_deadline(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if ((errno && errno != ERANGE) || end == s || *end || isnan(v) || !(v >= 0))
		return -EINVAL;
	if (v * 1e9 >= 18446744073709551615.0)
		*ns = UINT64_MAX;
	else
		*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct zr_options opts = { .deadline_ns = ZR_DEFAULT_DEADLINE_NS };

	for (int s = 0; s < ZD_FAULT_NR_SITES; s++)
		opts.fault[s].times = -1;
	struct zr_program *prog = NULL;
	const char *path = NULL, *name;
	size_t len;
	char *text;
	FILE *f;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			opts.verbose = true;
		} else if (!strcmp(a, "--stats")) {
			opts.stats = true;
		} else if (!strcmp(a, "--fail")) {
			enum zd_fault_site site;
			struct zd_fault_attr attr;

			if (i + 1 >= argc || zd_fault_attr_parse(argv[i + 1], &site, &attr)) {
				fprintf(stderr, "zonedev run: expected --fail SITE[:probability=P][,interval=N][,times=K] "
					"with SITE page_alloc, pgmap_setup, device_alloc, pgtable_alloc or "
					"vma_alloc, found '%s'\n",
					i + 1 < argc ? argv[i + 1] : "");
				return usage(stderr, ZR_EXIT_USAGE);
			}
			opts.fault[site] = attr;
			i++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return usage(stdout, ZR_EXIT_OK);
		} else if (!strncmp(a, "--trace", 7) || !strncmp(a, "--deadline", 10)) {
			bool trace = a[2] == 't';
			size_t klen = trace ? 7 : 10;

			if (a[klen] == '=')
				val = a + klen + 1;
			else if (a[klen] == '\0' && i + 1 < argc)
				val = argv[++i];
			else if (a[klen] != '\0')
				goto unknown;
			if (!val || !*val) {
				fprintf(stderr, "zonedev run: %s needs a value\n", trace ? "--trace" : "--deadline");
				return usage(stderr, ZR_EXIT_USAGE);
			}
			if (trace) {
				opts.trace_path = val;
			} else if (parse_deadline(val, &opts.deadline_ns)) {
				fprintf(stderr, "zonedev run: expected --deadline SECONDS (a number >= 0), found '%s'\n",
					val);
				return usage(stderr, ZR_EXIT_USAGE);
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			goto unknown;
		} else if (path) {
			fprintf(stderr, "zonedev run: one scenario at a time, found '%s' after '%s'\n",
				a, path);
			return usage(stderr, ZR_EXIT_USAGE);
		} else {
			path = a;
		}
		continue;
unknown:
		fprintf(stderr, "zonedev run: unknown option '%s'\n", a);
		return usage(stderr, ZR_EXIT_USAGE);
	}
	if (!path) {
		fprintf(stderr, "zonedev run: expected a scenario FILE or '-'\n");
		return usage(stderr, ZR_EXIT_USAGE);
	}

	if (!strcmp(path, "-")) {
		name = "<stdin>";
		f = stdin;
	} else {
		name = path;
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "zonedev run: cannot open %s: %s\n", path, strerror(errno));
			return ZR_EXIT_USAGE;
		}
	}
	ret = read_all(f, &text, &len);
	if (f != stdin)
		fclose(f);
	if (ret) {
		fprintf(stderr, "zonedev run: cannot read %s: %s\n", name, strerror(-ret));
		return ZR_EXIT_USAGE;
	}

	ret = zr_parse(name, text, len, stderr, &prog);
	free(text);
	if (ret == -ENOMEM) {
		fprintf(stderr, "zonedev run: out of memory\n");
		return ZR_EXIT_FAIL;
	}
	if (ret)
		return ZR_EXIT_USAGE;
	ret = zr_run_program(prog, &opts);
	zr_program_free(prog);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "run", cmd_run, "run a scenario" },
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, ZR_EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout, ZR_EXIT_OK);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "zonedev: unknown %s '%s'\n", argv[1][0] == '-' ? "option" : "command",
		argv[1]);
	return usage(stderr, ZR_EXIT_USAGE);
}
