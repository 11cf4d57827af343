// SPDX-License-Identifier: MIT
/*
 * lexer.c - the scenario language's lexical rules: one command a line,
 * blank-separated words, "strings" with C escapes, braces for thread
 * blocks and '#' comments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool ends_word(char c)
{
	return is_blank(c) || c == '#' || c == '"' || c == '{' || c == '}';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int push(struct zr_token **tok, int *n, int *cap, struct zr_token t)
{
	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		struct zr_token *v = realloc(*tok, (size_t)ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*tok = v;
		*cap = ncap;
	}
	(*tok)[(*n)++] = t;
	return 0;
}

/*
 * A "string": decode C escapes (\n \t \r \0 \a \b \f \v \\ \" \' \xHH,
 * octal \ooo) into @out, which has room for the raw length. Returns the
 * index just past the closing quote, or -1 after reporting an error.
 */
static long lex_string(struct zr_parser *p, const char *s, size_t len, size_t start,
		       char *out, size_t *outlen)
{
	size_t i = start + 1, o = 0;

	while (i < len && s[i] != '"') {
		char c = s[i++];
		int v, k;

		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (i >= len)
			break;
		c = s[i++];
		switch (c) {
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'a': out[o++] = '\a'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'v': out[o++] = '\v'; break;
		case 'e': out[o++] = 0x1b; break;
		case '\\': case '"': case '\'': case '?':
			out[o++] = c;
			break;
		case 'x':
			v = 0;
			for (k = 0; k < 2 && i < len && hexval(s[i]) >= 0; k++)
				v = v * 16 + hexval(s[i++]);
			if (k == 0) {
				zr_perr(p, (int)i + 1, "expected hex digits after '\\x'");
				return -1;
			}
			out[o++] = (char)v;
			break;
		default:
			if (c >= '0' && c <= '7') {
				v = c - '0';
				for (k = 1; k < 3 && i < len && s[i] >= '0' && s[i] <= '7'; k++)
					v = v * 8 + (s[i++] - '0');
				if (v > 0xff) {
					zr_perr(p, (int)i, "expected an octal escape up to \\377");
					return -1;
				}
				out[o++] = (char)v;
				break;
			}
			zr_perr(p, (int)i, "expected an escape (\\n \\t \\r \\0 \\\\ \\\" \\xHH ...), found '\\%c'",
				c);
			return -1;
		}
	}
	if (i >= len) {
		zr_perr(p, (int)start + 1, "expected a closing '\"' for this string");
		return -1;
	}
	out[o] = '\0';
	*outlen = o;
	return (long)i + 1;
}

int zr_lex_line(struct zr_parser *p, const char *s, size_t len,
		struct zr_token **tokp, int *ntokp)
{
	struct zr_token *tok = NULL;
	int n = 0, cap = 0, ret = 0;
	size_t i = 0;

	while (i < len) {
		struct zr_token t = { .col = (int)i + 1 };
		size_t j;

		if (is_blank(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '#')
			break;
		if (s[i] == '{' || s[i] == '}') {
			t.kind = s[i] == '{' ? ZR_TOK_LBRACE : ZR_TOK_RBRACE;
			t.text = strndup(s + i, 1);
			t.len = 1;
			i++;
		} else if (s[i] == '"') {
			long next;

			t.kind = ZR_TOK_STRING;
			t.text = malloc(len - i + 1);
			if (!t.text) {
				ret = -ENOMEM;
				break;
			}
			next = lex_string(p, s, len, i, t.text, &t.len);
			if (next < 0) {
				free(t.text);
				ret = -EINVAL;
				break;
			}
			i = (size_t)next;
			if (i < len && !ends_word(s[i])) {
				free(t.text);
				ret = zr_perr(p, (int)i + 1,
					      "expected a blank after the closing '\"'");
				break;
			}
		} else {
			for (j = i; j < len && !ends_word(s[j]); j++) {
				if ((unsigned char)s[j] < 0x20 || (unsigned char)s[j] >= 0x7f) {
					ret = zr_perr(p, (int)j + 1,
						      "expected printable ASCII, found byte 0x%02x",
						      (unsigned char)s[j]);
					break;
				}
			}
			if (ret)
				break;
			t.kind = ZR_TOK_WORD;
			t.text = strndup(s + i, j - i);
			t.len = j - i;
			i = j;
		}
		if (!t.text) {
			ret = -ENOMEM;
			break;
		}
		ret = push(&tok, &n, &cap, t);
		if (ret) {
			free(t.text);
			break;
		}
	}
	if (ret) {
		zr_tokens_free(tok, n);
		return ret;
	}
	*tokp = tok;
	*ntokp = n;
	return 0;
}

void zr_tokens_free(struct zr_token *tok, int ntok)
{
	for (int i = 0; i < ntok; i++)
		free(tok[i].text);
	free(tok);
}
