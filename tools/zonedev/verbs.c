// SPDX-License-Identifier: MIT
/*
 * verbs.c - the verb table of the scenario language, assembled from the
 * slices the verb families export (verbs_machine.c, verbs_mm.c, ...:
 * each holds its verbs' grammar and executors), and the verbs this build
 * does not have: their subsystem does not exist yet, so they carry no
 * grammar and the parser refuses them by name (none today: a verb whose
 * subsystem is missing goes there with its subsystem's name). Adding a verb touches its family's file only.
 */
#include <string.h>

#include "runner.h"

/* Verbs of the language whose subsystem is not built: refused by name. */
static const struct zr_verb unbuilt[] = {
	{ 0 },
};

/* In the order misspelt verbs are matched (the first of two as close wins). */
static const struct zr_verb *const families[] = {
	zr_verbs_machine,
	zr_verbs_mm,
	zr_verbs_files,
	zr_verbs_access,
	zr_verbs_gup,
	zr_verbs_refs,
	zr_verbs_device,
	zr_verbs_migrate,
	unbuilt,
	zr_verbs_thread,
	zr_verbs_expect,
	zr_verbs_expect_page,
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

const struct zr_verb *zr_verb_lookup(const char *name)
{
	for (size_t f = 0; f < NFAMILIES; f++)
		for (const struct zr_verb *v = families[f]; v->name; v++)
			if (!strcmp(v->name, name))
				return v;
	return NULL;
}

const struct zr_verb *zr_verb_first(void)
{
	for (size_t f = 0; f < NFAMILIES; f++)
		for (const struct zr_verb *v = families[f]; v->name; v++)
			if (v->flags & ZR_VERB_FIRST)
				return v;
	return NULL;
}

/* Edit distance of two short words (Levenshtein, rows of at most 32). */
static unsigned int distance(const char *a, const char *b)
{
	unsigned int row[33], n = (unsigned int)strlen(b);

	if (strlen(a) > 32 || n > 32)
		return 99;
	for (unsigned int j = 0; j <= n; j++)
		row[j] = j;
	for (unsigned int i = 1; *a; a++, i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (unsigned int j = 1; j <= n; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (*a != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[n];
}

const char *zr_verb_suggest(const char *name)
{
	const char *best = NULL;
	unsigned int bestd = 3;	/* suggest within two edits */

	for (size_t f = 0; f < NFAMILIES; f++) {
		for (const struct zr_verb *v = families[f]; v->name; v++) {
			unsigned int d;

			if (strchr(v->name, ' '))
				continue;
			d = distance(name, v->name);
			if (d < bestd) {
				bestd = d;
				best = v->name;
			}
		}
	}
	return best;
}
