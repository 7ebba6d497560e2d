package sipua

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
)

// Transport is the SIP transport.
type Transport string

// Transports.
const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
	TLS Transport = "tls"
)

// Defaults.
const (
	DefaultExpires   = 600 * time.Second
	DefaultUserAgent = "kurodenwa-pi-gateway"
	// MaxRegisterPerSecond is Twilio SIP Domain's limit per address of
	// record; the gateway never sends REGISTER faster, whoever the
	// registrar is.
	MaxRegisterPerSecond = 5
)

// Config configures a UA. Password comes from the caller (an environment
// variable or a file) and is never logged.
type Config struct {
	// User is the user part of the address of record and of the Contact,
	// e.g. "blackphone".
	User string
	// AuthUser is the digest user name (default User).
	AuthUser string
	// Password is the digest password. Never logged.
	Password string
	// DisplayName goes in From.
	DisplayName string
	// Domain is the address of record's host (default: Registrar's host).
	Domain string
	// Registrar is the registrar's SIP URI, e.g. "sip:pbx.lan" or
	// "sip:NAME.sip.twilio.com". Empty: no registration (calls still work
	// by address).
	Registrar string
	// OutboundProxy, if set, is where every request goes first (a Route
	// with ;lr), e.g. "sip:NAME.sip.tokyo.twilio.com" for a Twilio edge.
	OutboundProxy string
	// Transport is udp (default), tcp or tls.
	Transport Transport
	// Bind is the local SIP address, e.g. "0.0.0.0:5060" or, in tests,
	// "127.0.0.1:0" (any free port).
	Bind string
	// ContactHost is the host to advertise in Contact, Via and SDP when
	// Bind is a wildcard; default: the address the registrar is reached
	// from.
	ContactHost string
	// RewriteContact re-registers with the address the registrar saw
	// (Via received/rport) when it differs: a phone behind NAT.
	RewriteContact bool
	// Expires is the registration time asked for (default 600 s).
	Expires time.Duration
	// UserAgent is the User-Agent header.
	UserAgent string
	// TLS configures TLS (server name, roots, client certificate).
	TLS *tls.Config
	// OptionsInterval, if set, sends OPTIONS to the registrar (or proxy)
	// that often: a NAT keep-alive and a health probe.
	OptionsInterval time.Duration
	// MaxCalls is how many calls may exist at once (default 1: a black
	// phone has one line; a further INVITE gets 486 Busy Here).
	MaxCalls int
	// Media configures each call's RTP session: port range, jitter
	// buffer, gains, symmetric RTP. LocalIP and OnDigit are the UA's.
	Media media.Config
	// Codecs in order of preference (default PCMU, PCMA).
	Codecs []media.Codec
}

// LogValue keeps the password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", c.User),
		slog.String("auth_user", c.authUser()),
		slog.Bool("password_set", c.Password != ""),
		slog.String("registrar", c.Registrar),
		slog.String("proxy", c.OutboundProxy),
		slog.String("transport", string(c.transport())),
		slog.String("bind", c.Bind),
	)
}

func (c Config) authUser() string {
	if c.AuthUser != "" {
		return c.AuthUser
	}
	return c.User
}

func (c Config) transport() Transport {
	if c.Transport == "" {
		return UDP
	}
	return c.Transport
}

func (c Config) expires() time.Duration {
	if c.Expires <= 0 {
		return DefaultExpires
	}
	return c.Expires
}

func (c Config) maxCalls() int {
	if c.MaxCalls <= 0 {
		return 1
	}
	return c.MaxCalls
}

// settings are a Config checked and resolved.
type settings struct {
	Config
	registrar *sip.Uri // nil: no registration
	proxy     *sip.Uri
	domain    string
	bind      netip.AddrPort
}

func (c Config) resolve() (settings, error) {
	s := settings{Config: c}
	if c.User == "" {
		return s, fmt.Errorf("sipua: config: user is empty")
	}
	if strings.ContainsAny(c.User, "@:;<> ") {
		return s, fmt.Errorf("sipua: config: user %q must be only the user part", c.User)
	}
	switch c.transport() {
	case UDP, TCP, TLS:
	default:
		return s, fmt.Errorf("sipua: config: transport %q is not udp, tcp or tls", c.Transport)
	}
	if c.Registrar != "" {
		u, err := parseSIPURI(c.Registrar)
		if err != nil {
			return s, fmt.Errorf("sipua: config: registrar: %w", err)
		}
		s.registrar = &u
	}
	if c.OutboundProxy != "" {
		u, err := parseSIPURI(c.OutboundProxy)
		if err != nil {
			return s, fmt.Errorf("sipua: config: outbound proxy: %w", err)
		}
		if !u.UriParams.Has("lr") {
			u.UriParams.Add("lr", "")
		}
		s.proxy = &u
	}
	s.domain = c.Domain
	if s.domain == "" && s.registrar != nil {
		s.domain = s.registrar.Host
	}
	bind := c.Bind
	if bind == "" {
		bind = "0.0.0.0:5060"
	}
	ap, err := netip.ParseAddrPort(bind)
	if err != nil {
		return s, fmt.Errorf("sipua: config: bind %q: want IP:port: %w", bind, err)
	}
	s.bind = ap
	if s.domain == "" {
		s.domain = ap.Addr().String()
	}
	return s, nil
}

// parseSIPURI reads "sip:host[:port][;params]" (the scheme may be left
// out).
func parseSIPURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
		s = "sip:" + s
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%q is not a SIP URI: %w", s, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("%q has no host", s)
	}
	return u, nil
}

// contactHost picks the address others reach this UA at: ContactHost, the
// bound address, or the local address the OS routes towards target.
func contactHost(cfg settings, target string) (netip.Addr, error) {
	if cfg.ContactHost != "" {
		ip, err := netip.ParseAddr(cfg.ContactHost)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("sipua: config: contact host %q must be an IP address: %w", cfg.ContactHost, err)
		}
		return ip, nil
	}
	if !cfg.bind.Addr().IsUnspecified() {
		return cfg.bind.Addr(), nil
	}
	if target == "" {
		target = "192.0.2.1" // TEST-NET: only used to pick a route
	}
	// A connected UDP socket sends nothing but reveals the source address.
	c, err := net.Dial("udp", net.JoinHostPort(target, "5060"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sipua: find local address towards %s: %w (set ContactHost)", target, err)
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr().Unmap(), nil
}
