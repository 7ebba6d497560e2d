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
	v := strings.TrimPrefix(strings.TrimSpace(version), "certified-")
	if rest, ok := strings.CutPrefix(v, "GIT-"); ok {
		// A build from a branch: "GIT-22-abc" or "GIT-master-abc".
		branch, _, _ := strings.Cut(rest, "-")
		if branch == "master" || branch == "main" {
			return true
		}
		major, err := strconv.Atoi(branch)
		return err == nil && major >= 23
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
	switch {
	case major >= 23:
		return true
	case major == 22:
		return minor >= 3
	case major == 21:
		return minor >= 8
	case major == 20:
		return minor >= 13
	}
	return false
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
