package asterisk

import (
	"strconv"
	"strings"
)

// AppTransfers reports whether an Asterisk of this version (as ARI's
// /asterisk/info gives it: "22.10.1", "20.13.0-rc1", "certified-20.7-cert5",
// "GIT-master-abc123") can hand a softphone's REFER to the application:
// PJSIP_TRANSFER_HANDLING(ari-only), the ChannelTransfer event and
// /channels/{id}/transfer_progress came in 22.3.0, 21.8.0 and 20.13.0 (see
// the function's <since> in Asterisk's documentation) and are in every
// later major release. Versions it cannot read are taken as too old, which
// leaves transfers to Asterisk.
func AppTransfers(version string) bool {
	return atLeast(version, map[int]int{20: 13, 21: 8, 22: 3}, 23, 23)
}

// ReferSubFixed reports whether an Asterisk of this version survives a
// REFER with "Refer-Sub: false" under PJSIP_TRANSFER_HANDLING(ari-only):
// before the fix (asterisk/asterisk#2021, PR #2022, July 2026) it
// segfaults in res_pjsip_refer. 22.11.0 carries the fix (its ChangeLog
// lists #2021); 20.21 and 23.5 are the releases of the same cycle, taken
// as the first with it. Branch builds other than master are not trusted.
func ReferSubFixed(version string) bool {
	return atLeast(version, map[int]int{20: 21, 22: 11, 23: 5}, 24, 0)
}

// atLeast reports whether version is at least first[major].minor, or of
// major from or later; a "GIT-<branch>-…" build counts for master and for
// branches from gitFrom on (0: none). Versions it cannot read are too old.
func atLeast(version string, first map[int]int, from, gitFrom int) bool {
	v := strings.TrimPrefix(strings.TrimSpace(version), "certified-")
	if rest, ok := strings.CutPrefix(v, "GIT-"); ok {
		// A build from a branch: "GIT-22-abc" or "GIT-master-abc".
		branch, _, _ := strings.Cut(rest, "-")
		if branch == "master" || branch == "main" {
			return true
		}
		major, err := strconv.Atoi(branch)
		return err == nil && gitFrom > 0 && major >= gitFrom
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	minor, err := strconv.Atoi(leadingDigits(parts[1]))
	if err != nil {
		return false
	}
	if major >= from {
		return true
	}
	m, ok := first[major]
	return ok && minor >= m
}

// leadingDigits is s up to its first non-digit ("7-cert5" → "7").
func leadingDigits(s string) string {
	for i, r := range s {
		if r < '0' || r > '9' {
			return s[:i]
		}
	}
	return s
}
