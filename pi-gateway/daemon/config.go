package daemon

import (
	"net"
	"net/netip"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// twilioOptions keeps a NAT binding to a Twilio SIP Domain open and
// shows in /health when Twilio stops answering.
const twilioOptions = 30 * time.Second

// SIPConfig is the UA's configuration from the gateway's.
func SIPConfig(c *config.Config) sipua.Config {
	s := c.SIP
	first, last := c.RTPPortRange()
	sc := sipua.Config{
		User:        s.User,
		AuthUser:    c.AuthUser(),
		Password:    s.Password,
		DisplayName: s.DisplayName,
		// Only an explicit domain: sipua then keeps the registrar's port
		// in the numbers it dials.
		Domain:    s.Domain,
		Registrar: "sip:" + s.Registrar,
		Transport: sipua.Transport(s.Transport),
		Bind:      s.Bind,
		Expires:   s.Expiry,
		Media: media.Config{
			PortMin: first, PortMax: last,
			TxGainDB: c.Audio.MicGainDB, RxGainDB: c.Audio.SpeakerGainDB,
		},
	}
	if s.OutboundProxy != "" {
		sc.OutboundProxy = "sip:" + s.OutboundProxy
	}
	if s.Mode == config.ModeTwilio {
		// Twilio's media may come from elsewhere than its SDP says, and
		// the phone is usually behind NAT.
		sc.Media.Symmetric = true
		sc.RewriteContact = true
		sc.OptionsInterval = twilioOptions
	}
	// A wildcard bind advertises the address the registrar is reached
	// from (sipua's default); a specific one is used as it is.
	if host, _, err := net.SplitHostPort(s.Bind); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			sc.ContactHost = host
		}
	}
	return sc
}
