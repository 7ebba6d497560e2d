package site

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/kurodenwa/kurodenwa/internal/confkit"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

var (
	nameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	digitsRe   = regexp.MustCompile(`^[0-9]{1,16}$`)
	e164Re     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	sipUserRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	hostnameRe = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*$`)
	// Twilio's termination hosts: NAME.pstn.twilio.com, or with an edge
	// location such as NAME.pstn.tokyo.twilio.com.
	twilioHostRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.pstn\.([a-z0-9-]+\.)?twilio\.com$`)
)

// IsE164 reports whether s is an E.164 number written with its "+".
func IsE164(s string) bool { return e164Re.MatchString(s) }

// IsDigits reports whether s is 1–16 decimal digits.
func IsDigits(s string) bool { return digitsRe.MatchString(s) }

// normalize fills what a site may leave out and derives per-entry defaults.
func (s *Site) normalize(v confkit.Loaded) {
	for name, e := range s.Extensions {
		if e.Kind == "" {
			e.Kind = KindSoftphone
		}
		if e.SIPUser == "" {
			e.SIPUser = name
		}
		if e.DisplayName == "" {
			e.DisplayName = name
		}
		if e.MaxContacts == 0 {
			e.MaxContacts = defaultSoftphoneContact
			if e.Kind == KindBlackPhone {
				e.MaxContacts = 1
			}
		}
		if e.Kind == KindBlackPhone && !v.IsSet("extensions."+name+".hangup_tone") {
			e.HangupTone = true
		}
		if !v.IsSet("extensions." + name + ".qualify_frequency") {
			e.QualifyFrequency = defaultQualify
		}
		s.Extensions[name] = e
	}
	for name, g := range s.RingGroups {
		if g.Strategy == "" {
			g.Strategy = StrategyRingAll
		}
		if g.MemberTimeout == 0 {
			g.MemberTimeout = defaultMemberTimeout
		}
		if g.DisplayName == "" {
			g.DisplayName = name
		}
		s.RingGroups[name] = g
	}
	for name, p := range s.Peers {
		if p.Auth == "" {
			p.Auth = AuthIP
		}
		p.Host, p.Transport = splitSIPURI(p.Host, p.Transport)
		if p.Transport == "" {
			p.Transport = "udp"
		}
		if p.DisplayName == "" {
			p.DisplayName = name
		}
		if len(p.Match) == 0 && p.Auth == AuthIP && p.Host != "" {
			p.Match = []string{hostOnly(p.Host)}
		}
		if p.Username == "" && p.Auth == AuthCredentials {
			p.Username = name
		}
		if p.InboundUsername == "" {
			p.InboundUsername = p.Username
		}
		s.Peers[name] = p
	}
	if len(s.Numbering.NationalLengths) == 0 && s.Numbering.CountryCode == "81" {
		s.Numbering.NationalLengths = japanNationalLengths()
	}
	if s.Exchange.Name == "" {
		s.Exchange.Name = "kurodenwa"
	}
}

// splitSIPURI accepts a peer written as a SIP URI (sip:host:port;transport=tcp,
// as mantela.json's sipUri has it) as well as host[:port]; the URI's
// transport applies unless the site names one.
func splitSIPURI(host, transport string) (string, string) {
	rest, ok := strings.CutPrefix(host, "sip:")
	if !ok {
		return host, transport
	}
	if _, after, found := strings.Cut(rest, "@"); found {
		rest = after
	}
	rest, params, _ := strings.Cut(rest, ";")
	for _, param := range strings.Split(params, ";") {
		if v, ok := strings.CutPrefix(strings.ToLower(param), "transport="); ok && transport == "" {
			transport = v
		}
	}
	return rest, transport
}

// hostOnly strips a port from host[:port].
func hostOnly(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		return h
	}
	return hp
}

// secretRef is one secret of the site and where it may come from.
type secretRef struct {
	key      string // site key, e.g. ari.password
	value    *string
	file     string
	required bool
}

// resolveSecrets reads *_file secrets where the environment gave none, and
// reports each required secret that is missing by the variable to set.
func (s *Site) resolveSecrets(opts Options) Problems {
	var probs Problems
	// secrets() hands out pointers into copies of map values; write them
	// back after resolving.
	exts, peers := s.Extensions, s.Peers
	refs := s.secretRefs()
	for _, r := range refs {
		if *r.value == "" && r.file != "" {
			b, err := opts.ReadSecretFile(r.file)
			if err != nil {
				probs.Addf(r.key+"_file", "cannot read secret: %v", err)
				continue
			}
			*r.value = strings.TrimRight(string(b), "\r\n")
		}
		if *r.value == "" && r.required {
			probs.Addf(r.key, "missing secret: set the environment variable %s (or %s_file to a file readable only by its owner)", EnvName(r.key), r.key)
		}
	}
	s.writeBack(exts, peers, refs)
	return probs
}

// secretRefs lists the site's secrets with pointers to scratch copies.
func (s *Site) secretRefs() []secretRef {
	refs := []secretRef{
		{key: "ari.password", value: &s.ARI.Password, file: s.ARI.PasswordFile, required: true},
		{key: "twilio.password", value: &s.Twilio.Password, file: s.Twilio.PasswordFile, required: s.Twilio.Enabled},
	}
	for _, name := range sortedKeys(s.Extensions) {
		e := s.Extensions[name]
		v := e.Password
		refs = append(refs, secretRef{key: "extensions." + name + ".password", value: &v, file: e.PasswordFile, required: true})
	}
	for _, name := range sortedKeys(s.Peers) {
		p := s.Peers[name]
		v := p.Password
		refs = append(refs, secretRef{key: "peers." + name + ".password", value: &v, file: p.PasswordFile, required: p.Auth == AuthCredentials})
	}
	return refs
}

func (s *Site) writeBack(exts map[string]Extension, peers map[string]Peer, refs []secretRef) {
	for _, r := range refs {
		parts := strings.Split(r.key, ".")
		if len(parts) != 3 {
			continue
		}
		switch parts[0] {
		case "extensions":
			e := exts[parts[1]]
			e.Password = *r.value
			exts[parts[1]] = e
		case "peers":
			p := peers[parts[1]]
			p.Password = *r.value
			peers[parts[1]] = p
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// validate checks everything a file can get wrong, and everything that
// would make the rendered PBX unsafe.
func (s *Site) validate() Problems {
	var p Problems
	s.validateExchange(&p)
	s.validateNumbering(&p)
	s.validateTwilio(&p)
	s.validateExtensions(&p)
	s.validateRingGroups(&p)
	s.validatePeers(&p)
	s.validateARI(&p)
	s.validateNumberSpace(&p)
	s.validateCalls(&p)
	return p
}

// soundRe is a sound file name as Asterisk's sound: URI takes it (no
// extension, no path outside the sounds directory).
var soundRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)

func (s *Site) validateCalls(p *Problems) {
	c := s.Calls
	for key, v := range map[string]string{"calls.inbound_ringback": c.InboundRingback, "calls.outbound_ringback": c.OutboundRingback} {
		if !oneOf(v, RingbackIndicate, RingbackTone) {
			p.Addf(key, "%q is not indicate or tone", v)
		}
	}
	if c.Queue.MaxLength < 0 || c.Queue.MaxLength > 50 {
		p.Addf("calls.queue.max_length", "%d is outside 0–50", c.Queue.MaxLength)
	}
	if c.Queue.MaxWait < 10*time.Second || c.Queue.MaxWait > time.Hour {
		p.Addf("calls.queue.max_wait", "%v is outside 10s–1h", c.Queue.MaxWait)
	}
	if c.ToneLimit < time.Second || c.ToneLimit > 5*time.Minute {
		p.Addf("calls.tone_limit", "%v is outside 1s–5m", c.ToneLimit)
	}
	if c.HoldLimit < 10*time.Second || c.HoldLimit > 2*time.Hour {
		p.Addf("calls.hold_limit", "%v is outside 10s–2h", c.HoldLimit)
	}
	if len(c.FlashDigit) != 1 || !strings.Contains("0123456789*#ABCD", c.FlashDigit) {
		p.Addf("calls.flash_digit", "%q is not one DTMF digit (A, which a rotary dial cannot send, is usual)", c.FlashDigit)
	}
	if !oneOf(c.TransferHandling, TransferAuto, TransferApplication, TransferCore) {
		p.Addf("calls.transfer_handling", "%q is not auto, application or core", c.TransferHandling)
	}
	if !nameRe.MatchString(c.MOHClass) {
		p.Addf("calls.moh_class", "%q is not a music-on-hold class name", c.MOHClass)
	}
	for key, v := range map[string]string{"calls.queue.position_announcement": c.Queue.PositionAnnouncement, "calls.no_answer.announcement": c.NoAnswer.Announcement} {
		if v != "" && !soundRe.MatchString(v) {
			p.Addf(key, "%q is not a sound name such as queue-thereare", v)
		}
	}
	if d := c.NoAnswer.Destination; d != "" {
		_, ext := s.Extensions[d]
		_, grp := s.RingGroups[d]
		if !ext && !grp {
			p.Addf("calls.no_answer.destination", "%q is neither an extension nor a ring group", d)
		}
	}
	for _, cause := range sortedKeys(c.Announcements) {
		key := "calls.announcements." + cause
		if n, err := strconv.Atoi(cause); err != nil || n < 1 || n > 127 {
			p.Addf(key, "%q is not a Q.850 cause (1–127)", cause)
		}
		if !soundRe.MatchString(c.Announcements[cause]) {
			p.Addf(key, "%q is not a sound name such as ss-noservice", c.Announcements[cause])
		}
	}
}

func (s *Site) validateExchange(p *Problems) {
	x := s.Exchange
	if x.Identifier == "" {
		p.Add("exchange.identifier", "required: a UUID that names this exchange in mantela.json (generate one with uuidgen)")
	} else if _, err := uuid.Parse(x.Identifier); err != nil {
		p.Addf("exchange.identifier", "%q is not a UUID", x.Identifier)
	}
	if x.PreferredPrefix != "" && !IsDigits(x.PreferredPrefix) {
		p.Addf("exchange.preferred_prefix", "%q is not a string of digits", x.PreferredPrefix)
	}
	if x.HopPrefix != "" && !IsDigits(x.HopPrefix) {
		p.Addf("exchange.hop_prefix", "%q is not a string of digits", x.HopPrefix)
	}
	if x.SIP.UDP == "" && x.SIP.TCP == "" && x.SIP.TLS.Bind == "" {
		p.Add("exchange.sip", "no SIP transport: set udp, tcp or tls.bind")
	}
	checkListen(p, "exchange.sip.udp", x.SIP.UDP)
	checkListen(p, "exchange.sip.tcp", x.SIP.TCP)
	checkListen(p, "exchange.sip.tls.bind", x.SIP.TLS.Bind)
	if x.SIP.TLS.Bind != "" && (x.SIP.TLS.CertFile == "" || x.SIP.TLS.KeyFile == "") {
		p.Add("exchange.sip.tls", "a TLS transport needs cert_file and key_file")
	}
	for i, c := range x.NAT.LocalNet {
		if _, err := netip.ParsePrefix(c); err != nil {
			p.Addf(fmt.Sprintf("exchange.nat.local_net[%d]", i), "%q is not a CIDR such as 192.168.1.0/24", c)
		}
	}
	checkHost(p, "exchange.nat.external_signaling_address", x.NAT.ExternalSignalingAddress)
	checkHost(p, "exchange.nat.external_media_address", x.NAT.ExternalMediaAddress)
	if (x.NAT.ExternalSignalingAddress != "" || x.NAT.ExternalMediaAddress != "") && len(x.NAT.LocalNet) == 0 {
		p.Add("exchange.nat.local_net", "required with an external address: without it Asterisk advertises the public address to the LAN too")
	}
	r := x.RTP
	switch {
	case r.Start < 1024 || r.Start > 65534:
		p.Addf("exchange.rtp.start", "%d is outside 1024–65534", r.Start)
	case r.End <= r.Start || r.End > 65535:
		p.Addf("exchange.rtp.end", "%d must be above rtp.start (%d) and at most 65535", r.End, r.Start)
	case r.End-r.Start < 10:
		p.Addf("exchange.rtp.end", "the range %d–%d holds fewer than 5 calls", r.Start, r.End)
	}
	if x.RingTimeout < 5*time.Second || x.RingTimeout > 10*time.Minute {
		p.Addf("exchange.ring_timeout", "%v is outside 5s–10m", x.RingTimeout)
	}
	if x.HangupToneLimit < time.Second || x.HangupToneLimit > 10*time.Minute {
		p.Addf("exchange.hangup_tone_limit", "%v is outside 1s–10m", x.HangupToneLimit)
	}
	if _, err := tone.Lookup(x.ToneZone); err != nil {
		p.Add("exchange.tone_zone", err.Error())
	}
}

func checkListen(p *Problems, key, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.Addf(key, "%q is not host:port", addr)
		return
	}
	if _, err := netip.ParseAddr(host); err != nil {
		p.Addf(key, "%q: the host must be an IP address (0.0.0.0 for all)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.Addf(key, "%q: bad port", addr)
	}
}

func checkHost(p *Problems, key, h string) {
	if h == "" {
		return
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return
	}
	if !hostnameRe.MatchString(h) {
		p.Addf(key, "%q is neither an IP address nor a host name", h)
	}
}

func (s *Site) validateNumbering(p *Problems) {
	n := s.Numbering
	if !regexp.MustCompile(`^[1-9][0-9]{0,2}$`).MatchString(n.CountryCode) {
		p.Addf("numbering.country_code", "%q is not a country code such as 81", n.CountryCode)
	}
	if n.TrunkPrefix != "" && !IsDigits(n.TrunkPrefix) {
		p.Addf("numbering.trunk_prefix", "%q is not a string of digits", n.TrunkPrefix)
	}
	if !IsDigits(n.InternationalPrefix) {
		p.Addf("numbering.international_prefix", "%q is not a string of digits", n.InternationalPrefix)
	}
	if n.TrunkPrefix != "" && len(n.NationalLengths) == 0 {
		p.Add("numbering.national_lengths", "required outside Japan: the length of national numbers by leading digits")
	}
	for _, k := range sortedKeys(n.NationalLengths) {
		l := n.NationalLengths[k]
		key := "numbering.national_lengths." + k
		if !IsDigits(k) || !strings.HasPrefix(k, n.TrunkPrefix) {
			p.Addf(key, "%q must be digits starting with the trunk prefix %q", k, n.TrunkPrefix)
		}
		if l < len(k) || l > 15 {
			p.Addf(key, "length %d must be from %d to 15", l, len(k))
		}
	}
	if n.ServiceCodeLength < 0 || n.ServiceCodeLength > 6 {
		p.Addf("numbering.service_code_length", "%d is outside 0–6", n.ServiceCodeLength)
	}
	for _, code := range sortedKeys(n.ServiceCodes) {
		key := "numbering.service_codes." + code
		if !s.IsServiceCode(code) {
			p.Addf(key, "%q is not a service code (%d digits starting with %q)", code, n.ServiceCodeLength, n.ServiceCodePrefix)
		}
		if !IsE164(n.ServiceCodes[code]) {
			p.Addf(key, "%q is not an E.164 number such as +81312345678 (quote it in YAML)", n.ServiceCodes[code])
		}
	}
}

// IsServiceCode reports whether digits have the shape of a service code.
func (s *Site) IsServiceCode(digits string) bool {
	n := s.Numbering
	return n.ServiceCodeLength > 0 && len(digits) == n.ServiceCodeLength && IsDigits(digits) &&
		strings.HasPrefix(digits, n.ServiceCodePrefix)
}

func (s *Site) validateTwilio(p *Problems) {
	t := s.Twilio
	if !t.Enabled {
		if len(t.DIDs) > 0 {
			p.Add("twilio.dids", "twilio.enabled is false, so no DID can reach this PBX")
		}
		return
	}
	if !twilioHostRe.MatchString(t.TerminationHost) {
		p.Addf("twilio.termination_host", "%q is not a Twilio termination host such as NAME.pstn.twilio.com or NAME.pstn.tokyo.twilio.com", t.TerminationHost)
	}
	if !oneOf(t.Transport, "udp", "tcp", "tls") {
		p.Addf("twilio.transport", "%q is not udp, tcp or tls", t.Transport)
	}
	if oneOf(t.Transport, "udp", "tcp", "tls") && !s.hasTransport(t.Transport) {
		p.Addf("twilio.transport", "%s needs exchange.sip.%s", t.Transport, map[string]string{"udp": "udp", "tcp": "tcp", "tls": "tls.bind"}[t.Transport])
	}
	if !sipUserRe.MatchString(t.Username) {
		p.Addf("twilio.username", "%q: required, the termination credential's user name (letters, digits, . _ -)", t.Username)
	}
	if t.Password != "" {
		checkPassword(p, "twilio.password", t.Password, t.Username)
	}
	if !IsE164(t.CallerID) {
		p.Addf("twilio.caller_id", "%q is not an E.164 number such as +815012345678 (quote it in YAML)", t.CallerID)
	}
	seen := map[string]string{}
	for _, name := range sortedKeys(t.DIDs) {
		d := t.DIDs[name]
		key := "twilio.dids." + name
		if !IsE164(d.Number) {
			p.Addf(key+".number", "%q is not E.164 (+ then country code and number, e.g. \"+815012345678\", quoted)", d.Number)
		} else if other, dup := seen[d.Number]; dup {
			p.Addf(key+".number", "%s is also DID %q", d.Number, other)
		}
		seen[d.Number] = name
		if _, ok := s.Extensions[d.Destination]; !ok {
			if _, ok := s.RingGroups[d.Destination]; !ok {
				p.Addf(key+".destination", "%q is neither an extension nor a ring group", d.Destination)
			}
		}
	}
	checkCIDRs(p, "twilio.signaling_cidrs", t.SignalingCIDRs, true)
	checkCIDRs(p, "twilio.media_cidrs", t.MediaCIDRs, false)
}

// checkCIDRs refuses ranges so wide that "only Twilio may call in" stops
// meaning anything.
func checkCIDRs(p *Problems, key string, cidrs []string, required bool) {
	if required && len(cidrs) == 0 {
		p.Add(key, "empty: nothing could be identified as Twilio; remove the key to use Twilio's published ranges")
	}
	for i, c := range cidrs {
		k := fmt.Sprintf("%s[%d]", key, i)
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			p.Addf(k, "%q is not a CIDR such as 54.172.60.0/30", c)
			continue
		}
		if (pfx.Addr().Is4() && pfx.Bits() < 16) || (pfx.Addr().Is6() && pfx.Bits() < 32) {
			p.Addf(k, "%s admits too many addresses (wider than /16)", c)
		}
	}
}

func (s *Site) validateExtensions(p *Problems) {
	users := map[string]string{}
	for _, name := range sortedKeys(s.Extensions) {
		e := s.Extensions[name]
		key := "extensions." + name
		checkName(p, key, name)
		if !IsDigits(e.Number) {
			p.Addf(key+".number", "%q is not a string of digits (quote it in YAML)", e.Number)
		}
		if !oneOf(e.Kind, KindBlackPhone, KindSoftphone) {
			p.Addf(key+".kind", "%q is not blackphone or softphone", e.Kind)
		}
		if !sipUserRe.MatchString(e.SIPUser) {
			p.Addf(key+".sip_user", "%q: letters, digits, . _ - only", e.SIPUser)
		} else if e.SIPUser == TwilioEndpoint || e.SIPUser == "anonymous" || strings.HasPrefix(e.SIPUser, "peer-") {
			p.Addf(key+".sip_user", "%q is reserved (twilio, anonymous and peer-* name trunks)", e.SIPUser)
		} else if other, dup := users[e.SIPUser]; dup {
			p.Addf(key+".sip_user", "%q is also the SIP user of %s", e.SIPUser, other)
		}
		users[e.SIPUser] = name
		if q := e.QualifyFrequency; q != 0 && (q < 5*time.Second || q > 10*time.Minute || q%time.Second != 0) {
			p.Addf(key+".qualify_frequency", "%v is neither 0 (off) nor whole seconds from 5s to 10m", q)
		}
		if e.MaxContacts < 1 || e.MaxContacts > 10 {
			p.Addf(key+".max_contacts", "%d is outside 1–10", e.MaxContacts)
		}
		if e.Password != "" {
			checkPassword(p, key+".password", e.Password, e.SIPUser)
		}
		if strings.ContainsAny(e.DisplayName, "\"\n\r;<>") {
			p.Addf(key+".display_name", "%q has a character not allowed in a caller ID name", e.DisplayName)
		}
	}
}

func (s *Site) validateRingGroups(p *Problems) {
	for _, name := range sortedKeys(s.RingGroups) {
		g := s.RingGroups[name]
		key := "ring_groups." + name
		checkName(p, key, name)
		if _, clash := s.Extensions[name]; clash {
			p.Addf(key, "%q is also an extension's name", name)
		}
		if !IsDigits(g.Number) {
			p.Addf(key+".number", "%q is not a string of digits (quote it in YAML)", g.Number)
		}
		if !oneOf(g.Strategy, StrategyRingAll, StrategyInOrder) {
			p.Addf(key+".strategy", "%q is not ringall or inorder", g.Strategy)
		}
		if len(g.Members) == 0 {
			p.Add(key+".members", "empty: list the extensions to ring")
		}
		seen := map[string]bool{}
		for i, m := range g.Members {
			if _, ok := s.Extensions[m]; !ok {
				p.Addf(fmt.Sprintf("%s.members[%d]", key, i), "%q is not an extension", m)
			}
			if seen[m] {
				p.Addf(fmt.Sprintf("%s.members[%d]", key, i), "%q is listed twice", m)
			}
			seen[m] = true
		}
		if g.MemberTimeout < 5*time.Second || g.MemberTimeout > 5*time.Minute {
			p.Addf(key+".member_timeout", "%v is outside 5s–5m", g.MemberTimeout)
		}
		if strings.ContainsAny(g.DisplayName, "\"\n\r;<>") {
			p.Addf(key+".display_name", "%q has a character not allowed in a caller ID name", g.DisplayName)
		}
	}
}

func (s *Site) validatePeers(p *Problems) {
	prefixes := map[string]string{}
	for _, name := range sortedKeys(s.Peers) {
		peer := s.Peers[name]
		key := "peers." + name
		checkName(p, key, name)
		if !IsDigits(peer.Prefix) {
			p.Addf(key+".prefix", "%q is not a string of digits (quote it in YAML)", peer.Prefix)
		} else if other, dup := prefixes[peer.Prefix]; dup {
			p.Addf(key+".prefix", "%q is also the prefix of peer %s", peer.Prefix, other)
		}
		prefixes[peer.Prefix] = name
		if peer.Identifier != "" {
			if _, err := uuid.Parse(peer.Identifier); err != nil {
				p.Addf(key+".identifier", "%q is not a UUID", peer.Identifier)
			}
		}
		if peer.Host == "" {
			p.Add(key+".host", "required: the peer's SIP server as host or host:port")
		} else {
			h, port, err := net.SplitHostPort(peer.Host)
			if err != nil {
				h = peer.Host
			} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				p.Addf(key+".host", "%q: bad port", peer.Host)
			}
			checkHost(p, key+".host", h)
		}
		if !oneOf(peer.Transport, "udp", "tcp", "tls") {
			p.Addf(key+".transport", "%q is not udp, tcp or tls", peer.Transport)
		} else if !s.hasTransport(peer.Transport) {
			p.Addf(key+".transport", "%s needs exchange.sip.%s", peer.Transport, map[string]string{"udp": "udp", "tcp": "tcp", "tls": "tls.bind"}[peer.Transport])
		}
		switch peer.Auth {
		case AuthIP:
			if len(peer.Match) == 0 {
				p.Add(key+".match", "required with auth: ip")
			}
			for i, m := range peer.Match {
				k := fmt.Sprintf("%s.match[%d]", key, i)
				if pfx, err := netip.ParsePrefix(m); err == nil {
					if (pfx.Addr().Is4() && pfx.Bits() < 16) || (pfx.Addr().Is6() && pfx.Bits() < 32) {
						p.Addf(k, "%s admits too many addresses (wider than /16)", m)
					}
					continue
				}
				checkHost(p, k, m)
			}
		case AuthCredentials:
			if !sipUserRe.MatchString(peer.Username) {
				p.Addf(key+".username", "%q: letters, digits, . _ - only", peer.Username)
			}
			if !sipUserRe.MatchString(peer.InboundUsername) {
				p.Addf(key+".inbound_username", "%q: letters, digits, . _ - only", peer.InboundUsername)
			}
			for ename, e := range s.Extensions {
				if e.SIPUser == peer.InboundUsername {
					p.Addf(key+".inbound_username", "%q is also the SIP user of extension %s", peer.InboundUsername, ename)
				}
			}
			if peer.Password != "" {
				checkPassword(p, key+".password", peer.Password, peer.Username)
			}
		default:
			p.Addf(key+".auth", "%q is not ip or credentials", peer.Auth)
		}
		if peer.Mantela != "" {
			u, err := url.Parse(peer.Mantela)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				p.Addf(key+".mantela", "%q is not an http(s) URL", peer.Mantela)
			}
		}
		for _, pstn := range []string{s.Numbering.TrunkPrefix, s.Numbering.InternationalPrefix} {
			if s.Twilio.Enabled && pstn != "" && IsDigits(peer.Prefix) && strings.HasPrefix(pstn, peer.Prefix) {
				p.Addf(key+".prefix", "%s would take every number starting %s, so the PSTN could not be dialled", peer.Prefix, pstn)
			}
		}
		if peer.AllowPSTN && !s.Twilio.Enabled {
			p.Add(key+".allow_pstn", "twilio.enabled is false")
		}
		if peer.TransitWithoutHop && !peer.Transit {
			p.Add(key+".transit_without_hop", "needs transit: true")
		}
		if peer.Transit && s.Exchange.HopPrefix == "" {
			p.Add(key+".transit", "needs exchange.hop_prefix, the prefix peers dial to pass through this exchange")
		}
	}
}

func (s *Site) hasTransport(proto string) bool {
	switch proto {
	case "udp":
		return s.Exchange.SIP.UDP != ""
	case "tcp":
		return s.Exchange.SIP.TCP != ""
	case "tls":
		return s.Exchange.SIP.TLS.Bind != ""
	}
	return false
}

func (s *Site) validateARI(p *Problems) {
	a := s.ARI
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`).MatchString(a.App) {
		p.Addf("ari.app", "%q: letters, digits, _ and - only", a.App)
	}
	if !sipUserRe.MatchString(a.User) {
		p.Addf("ari.user", "%q: letters, digits, . _ - only", a.User)
	}
	if a.Password != "" {
		checkPassword(p, "ari.password", a.Password, a.User)
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		p.Add("ari", "cert_file and key_file go together")
	}
	if host, ok := listenHost(p, "ari.bind", a.Bind); ok && !isLoopback(host) && a.CertFile == "" {
		if host.IsUnspecified() || !host.IsPrivate() {
			p.Addf("ari.bind", "%s is reachable from outside without TLS: bind 127.0.0.1, or set ari.cert_file and ari.key_file", a.Bind)
		}
	}
	// The API has no authentication either: calls and metrics stay on this
	// host or the LAN.
	if host, ok := listenHost(p, "ari.api", a.API); ok && !isLoopback(host) && (host.IsUnspecified() || !host.IsPrivate()) {
		p.Addf("ari.api", "%s would expose the API, which has no authentication: bind 127.0.0.1", a.API)
	}
	if a.DrainTimeout < 0 || a.DrainTimeout > time.Hour {
		p.Addf("ari.drain_timeout", "%v is outside 0–1h", a.DrainTimeout)
	}
	// FastAGI has no authentication at all: keep it on this host or the LAN.
	if host, ok := listenHost(p, "ari.fastagi", a.FastAGI); ok && !isLoopback(host) && (host.IsUnspecified() || !host.IsPrivate()) {
		p.Addf("ari.fastagi", "%s would expose FastAGI, which has no authentication: bind 127.0.0.1", a.FastAGI)
	}
}

func listenHost(p *Problems, key, addr string) (netip.Addr, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.Addf(key, "%q is not host:port", addr)
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		p.Addf(key, "%q: the host must be an IP address", addr)
		return netip.Addr{}, false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.Addf(key, "%q: bad port", addr)
		return netip.Addr{}, false
	}
	return ip, true
}

func isLoopback(ip netip.Addr) bool { return ip.IsLoopback() }

// validateNumberSpace finds numbers that could never be reached because
// another rule takes the same digits first.
func (s *Site) validateNumberSpace(p *Problems) {
	type owner struct{ key, number string }
	var owned []owner
	for _, name := range sortedKeys(s.Extensions) {
		owned = append(owned, owner{"extensions." + name + ".number", s.Extensions[name].Number})
	}
	for _, name := range sortedKeys(s.RingGroups) {
		owned = append(owned, owner{"ring_groups." + name + ".number", s.RingGroups[name].Number})
	}
	seen := map[string]string{}
	for _, o := range owned {
		if o.number == "" {
			continue
		}
		if other, dup := seen[o.number]; dup {
			p.Addf(o.key, "%s is also %s", o.number, other)
		}
		seen[o.number] = o.key
		for _, name := range sortedKeys(s.Peers) {
			pre := s.Peers[name].Prefix
			if pre != "" && (strings.HasPrefix(o.number, pre) || strings.HasPrefix(pre, o.number)) {
				p.Addf(o.key, "%s collides with the prefix %s of peer %s", o.number, pre, name)
			}
		}
		if hp := s.Exchange.HopPrefix; hp != "" && (strings.HasPrefix(o.number, hp) || strings.HasPrefix(hp, o.number)) {
			p.Addf(o.key, "%s collides with exchange.hop_prefix %s", o.number, hp)
		}
		if s.Twilio.Enabled {
			n := s.Numbering
			if n.TrunkPrefix != "" && strings.HasPrefix(o.number, n.TrunkPrefix) {
				p.Addf(o.key, "%s starts with the trunk prefix %s, so national numbers could not be dialled", o.number, n.TrunkPrefix)
			}
			if s.IsServiceCode(o.number) {
				p.Addf(o.key, "%s is a service code (such as 110 or 119) and would hide it", o.number)
			}
		}
	}
	if hp := s.Exchange.HopPrefix; hp != "" {
		for _, name := range sortedKeys(s.Peers) {
			pre := s.Peers[name].Prefix
			if pre != "" && (strings.HasPrefix(hp, pre) || strings.HasPrefix(pre, hp)) {
				p.Addf("exchange.hop_prefix", "%s collides with the prefix %s of peer %s", hp, pre, name)
			}
		}
	}
}

func checkName(p *Problems, key, name string) {
	if !nameRe.MatchString(name) {
		p.Addf(key, "the name %q must be 1–32 of a-z, 0-9, _ and -, starting with a letter or digit", name)
	}
}

// checkPassword applies the rule Twilio sets for SIP credentials (at least
// 12 characters with upper case, lower case and a digit) to every password:
// the PBX answers on the Internet and will be guessed at.
func checkPassword(p *Problems, key, pw, user string) {
	var upper, lower, digit bool
	for _, r := range pw {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	switch {
	case pw == "":
		p.Add(key, "is empty")
	case len(pw) < 12 || !upper || !lower || !digit:
		p.Addf(key, "is weak: use at least 12 characters with upper case, lower case and digits (it has %d)", len(pw))
	case user != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(user)):
		p.Add(key, "is weak: it contains the user name")
	case strings.ContainsAny(pw, "\n\r\x00;"):
		p.Add(key, "has a character Asterisk's configuration cannot hold (newline, NUL or ;)")
	}
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
