package media

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// bindPort binds an RTP port on ip with bind: any port when lo and hi are
// both 0, else an even one in lo–hi (RTP/AVP's convention; RTCP would take
// the odd one above), starting at a random one so that two calls do not
// race for the same, trying at most 64.
func bindPort[S any](ip netip.Addr, lo, hi int, bind func(netip.Addr, uint16) (S, error)) (S, error) {
	var none S
	if lo <= 0 && hi <= 0 {
		s, err := bind(ip, 0)
		if err != nil {
			return none, fmt.Errorf("media: bind RTP on %s: %w", ip, err)
		}
		return s, nil
	}
	if lo <= 0 || hi < lo || hi > 65535 {
		return none, fmt.Errorf("media: RTP port range %d–%d is invalid", lo, hi)
	}
	span := (hi-lo)/2 + 1
	first := rand.IntN(span)
	var lastErr error
	for i := range min(span, 64) {
		port := lo + 2*((first+i)%span)
		s, err := bind(ip, uint16(port))
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return none, fmt.Errorf("media: no free RTP port in %d–%d on %s: %w", lo, hi, ip, lastErr)
}
