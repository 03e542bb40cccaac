/*
 * tests/lib/printable.c - make any bytes safe to show in a report.
 *
 * A program under test may print anything: NUL bytes, invalid UTF-8, escape
 * sequences that repaint the terminal. The reports (the screen, the TAP, the
 * JUnit XML, results.json) must stay valid UTF-8 text whatever it printed, and
 * XML 1.0 allows no control character but tab, newline and carriage return.
 *
 * Usage:
 *   printable          copy standard input to standard output, passing valid
 *                      UTF-8 text, tabs and newlines as they are and writing
 *                      every other byte (a control character, DEL, a byte of
 *                      no valid UTF-8 sequence) as the four characters \xNN
 *   printable --count  print "TOTAL NOTTEXT": the bytes read, and how many of
 *                      them the filter would write as \xNN
 * Exit 0, or 1 if a read or write fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence starting at P (N bytes available), or
 * 0 if none starts there (overlong forms, surrogates and code points above
 * U+10FFFF are not valid). A sequence cut by the end of the input is not. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F) are text to UTF-8 but not to a reader. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return len;
}

static int write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	/* A sequence may straddle two reads: keep up to 3 bytes back. */
	unsigned char buf[65536 + 4];
	char out[4 * sizeof(buf)];
	size_t have = 0, i, o;
	unsigned long long total = 0, bad = 0;
	int count = argc > 1 && strcmp(argv[1], "--count") == 0, eof = 0;

	while (!eof || have > 0) {
		if (!eof) {
			ssize_t n = read(0, buf + have, sizeof(buf) - 4 - have);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return 1;
			if (n == 0)
				eof = 1;
			total += (unsigned long long)(n > 0 ? n : 0);
			have += (size_t)(n > 0 ? n : 0);
		}
		i = o = 0;
		while (i < have) {
			unsigned char c = buf[i];
			size_t len;

			/* Wait for more input before judging a cut sequence. */
			if (!eof && c >= 0xc2 && c <= 0xf4 &&
			    have - i < (c >= 0xf0   ? 4u
			                : c >= 0xe0 ? 3u
			                            : 2u))
				break;
			len = utf8_len(buf + i, have - i);
			if (len == 1 &&
			    (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))) {
				out[o++] = (char)c;
			} else if (len > 1) {
				memcpy(out + o, buf + i, len);
				o += len;
			} else {
				len = 1;
				bad++;
				o += (size_t)sprintf(out + o, "\\x%02x", c);
			}
			i += len;
		}
		memmove(buf, buf + i, have - i);
		have -= i;
		if (!count && write_all(out, o) == -1)
			return 1;
	}
	if (count)
		printf("%llu %llu\n", total, bad);
	return 0;
}
