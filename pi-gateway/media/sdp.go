package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// Direction is a media stream's direction from one side's point of view
// (RFC 3264 §6.1): what that side sends and receives. Hold is expressed by
// it: the side putting a call on hold offers sendonly (or inactive).
type Direction uint8

// Directions; the zero value is unknown and treated as SendRecv.
const (
	SendRecv Direction = iota + 1
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

func (d Direction) norm() Direction {
	if d < SendRecv || d > Inactive {
		return SendRecv
	}
	return d
}

// Sends reports whether this side sends media.
func (d Direction) Sends() bool { d = d.norm(); return d == SendRecv || d == SendOnly }

// Receives reports whether this side receives media.
func (d Direction) Receives() bool { d = d.norm(); return d == SendRecv || d == RecvOnly }

// Reverse is the same stream seen from the other side.
func (d Direction) Reverse() Direction {
	switch d.norm() {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d.norm()
}

// Intersect is what both directions allow.
func (d Direction) Intersect(o Direction) Direction {
	return makeDirection(d.Sends() && o.Sends(), d.Receives() && o.Receives())
}

func makeDirection(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Format is one payload format of an m= line.
type Format struct {
	PT       uint8
	Name     string // encoding name from a=rtpmap, or the static name
	Rate     int
	Channels int
	Fmtp     string
}

// Description is the audio part of an SDP body: what one side offers or
// answers.
type Description struct {
	SessionID      uint64
	SessionVersion uint64
	// Addr is where this side receives RTP; port 0 declines the stream.
	Addr    netip.AddrPort
	Formats []Format
	// PTime is the packet time this side wants to receive (0: not given).
	PTime     time.Duration
	Direction Direction
	// OnHoldAddr is set when c= was 0.0.0.0, the RFC 2543 way to hold.
	OnHoldAddr bool
}

// Limits on input from the network.
const (
	maxSDPSize    = 16 << 10
	maxSDPFormats = 32
)

// Errors of negotiation; callers answer 488 Not Acceptable Here.
var (
	ErrNoAudio       = errors.New("sdp: no RTP/AVP audio stream")
	ErrNoCommonCodec = errors.New("sdp: no common codec (PCMU or PCMA)")
)

// ParseSDP reads the first RTP/AVP audio stream of an SDP body.
func ParseSDP(body []byte) (Description, error) {
	var d Description
	if len(body) > maxSDPSize {
		return d, fmt.Errorf("sdp: body of %d bytes is larger than %d", len(body), maxSDPSize)
	}
	var s sdp.SessionDescription
	if err := s.UnmarshalString(string(body)); err != nil {
		return d, fmt.Errorf("sdp: %w", err)
	}
	d.SessionID, d.SessionVersion = s.Origin.SessionID, s.Origin.SessionVersion
	var md *sdp.MediaDescription
	for _, m := range s.MediaDescriptions {
		if m.MediaName.Media == "audio" && isRTPAVP(m.MediaName.Protos) {
			md = m
			break
		}
	}
	if md == nil {
		return d, ErrNoAudio
	}
	conn := md.ConnectionInformation
	if conn == nil {
		conn = s.ConnectionInformation
	}
	port := md.MediaName.Port.Value
	if port < 0 || port > 65535 {
		return d, fmt.Errorf("sdp: port %d out of range", port)
	}
	if port != 0 {
		if conn == nil || conn.Address == nil {
			return d, fmt.Errorf("sdp: audio stream has no c= line")
		}
		if conn.NetworkType != "IN" || (conn.AddressType != "IP4" && conn.AddressType != "IP6") {
			return d, fmt.Errorf("sdp: unsupported connection %s %s", conn.NetworkType, conn.AddressType)
		}
		ip, err := netip.ParseAddr(conn.Address.Address)
		if err != nil {
			// A host name is legal but unusual; the gateway does not resolve it.
			return d, fmt.Errorf("sdp: connection address %q: %w", conn.Address.Address, err)
		}
		d.Addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		d.OnHoldAddr = ip.IsUnspecified()
	}
	if len(md.MediaName.Formats) > maxSDPFormats {
		return d, fmt.Errorf("sdp: %d formats, more than %d", len(md.MediaName.Formats), maxSDPFormats)
	}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return d, fmt.Errorf("sdp: payload type %q: %w", f, err)
		}
		d.Formats = append(d.Formats, staticFormat(uint8(pt)))
	}
	d.Direction = directionOf(s.Attributes, SendRecv)
	d.Direction = directionOf(md.Attributes, d.Direction)
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, name, rate, ch, ok := parseRtpmap(a.Value)
			if !ok {
				continue
			}
			for i := range d.Formats {
				if d.Formats[i].PT == pt {
					d.Formats[i].Name, d.Formats[i].Rate, d.Formats[i].Channels = name, rate, ch
				}
			}
		case "fmtp":
			ptStr, params, _ := strings.Cut(a.Value, " ")
			pt, err := strconv.ParseUint(ptStr, 10, 7)
			if err != nil {
				continue
			}
			for i := range d.Formats {
				if d.Formats[i].PT == uint8(pt) {
					d.Formats[i].Fmtp = strings.TrimSpace(params)
				}
			}
		case "ptime":
			ms, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 16)
			if err == nil && ms > 0 && ms <= 1000 {
				d.PTime = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return d, nil
}

func isRTPAVP(protos []string) bool {
	// RTP/AVP only: SRTP (RTP/SAVP) and WebRTC profiles are not spoken.
	return len(protos) == 2 && protos[0] == "RTP" && protos[1] == "AVP"
}

func directionOf(attrs []sdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return SendRecv
		case "sendonly":
			return SendOnly
		case "recvonly":
			return RecvOnly
		case "inactive":
			return Inactive
		}
	}
	return def
}

func staticFormat(pt uint8) Format {
	switch pt {
	case 0:
		return Format{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1}
	case 8:
		return Format{PT: 8, Name: "PCMA", Rate: 8000, Channels: 1}
	}
	return Format{PT: pt}
}

// parseRtpmap reads "101 telephone-event/8000[/1]".
func parseRtpmap(v string) (pt uint8, name string, rate, ch int, ok bool) {
	ptStr, rest, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found {
		return 0, "", 0, 0, false
	}
	p, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return 0, "", 0, 0, false
	}
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return 0, "", 0, 0, false
	}
	r, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return 0, "", 0, 0, false
	}
	ch = 1
	if len(parts) == 3 {
		c, err := strconv.ParseUint(parts[2], 10, 8)
		if err != nil {
			return 0, "", 0, 0, false
		}
		ch = int(c)
	}
	return uint8(p), parts[0], int(r), ch, true
}

// Marshal writes the description as an SDP body.
func (d Description) Marshal() ([]byte, error) {
	ip := d.Addr.Addr()
	if !ip.IsValid() {
		return nil, fmt.Errorf("sdp: no address to describe")
	}
	addrType := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		addrType = "IP6"
	}
	conn := &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.Unmap().String()}}
	s := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "kurodenwa", SessionID: d.SessionID, SessionVersion: d.SessionVersion,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.Unmap().String(),
		},
		SessionName:           "kurodenwa",
		ConnectionInformation: conn,
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	m := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(d.Addr.Port())}, Protos: []string{"RTP", "AVP"}},
	}
	for _, f := range d.Formats {
		m.MediaName.Formats = append(m.MediaName.Formats, strconv.Itoa(int(f.PT)))
	}
	for _, f := range d.Formats {
		if f.Name == "" {
			continue
		}
		m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", f.PT, f.Name, f.Rate)))
		if f.Fmtp != "" {
			m.Attributes = append(m.Attributes, sdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", f.PT, f.Fmtp)))
		}
	}
	if d.PTime > 0 {
		m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", strconv.Itoa(int(d.PTime/time.Millisecond))))
	}
	m.Attributes = append(m.Attributes, sdp.NewPropertyAttribute(d.Direction.norm().String()))
	s.MediaDescriptions = []*sdp.MediaDescription{m}
	return s.Marshal()
}

// DefaultEventPT is the dynamic payload type offered for telephone-event.
const DefaultEventPT = 101

// Local is what this side can do: its RTP address and codecs in order of
// preference.
type Local struct {
	Addr      netip.AddrPort
	Codecs    []Codec // default PCMU, PCMA
	EventPT   uint8   // telephone-event payload type to offer (default 101)
	NoEvents  bool    // do not offer RFC 4733 events
	PTime     time.Duration
	Direction Direction // default SendRecv; SendOnly to hold
}

func (l Local) codecs() []Codec {
	if len(l.Codecs) == 0 {
		return []Codec{PCMU, PCMA}
	}
	return l.Codecs
}

func (l Local) eventPT() uint8 {
	if l.EventPT < 96 || l.EventPT > 127 {
		return DefaultEventPT
	}
	return l.EventPT
}

func (l Local) ptime() time.Duration {
	if l.PTime <= 0 {
		return 20 * time.Millisecond
	}
	return l.PTime
}

// Offer describes this side as an SDP offer.
func (l Local) Offer(sessionID, version uint64) Description {
	d := Description{SessionID: sessionID, SessionVersion: version, Addr: l.Addr, PTime: l.ptime(), Direction: l.Direction.norm()}
	for _, c := range l.codecs() {
		d.Formats = append(d.Formats, staticFormat(c.PayloadType()))
	}
	if !l.NoEvents {
		d.Formats = append(d.Formats, Format{PT: l.eventPT(), Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: "0-16"})
	}
	return d
}

// Params are the negotiated media parameters a Session runs with.
type Params struct {
	Remote  netip.AddrPort // where to send RTP
	Codec   Codec          // what to send
	EventPT uint8          // telephone-event payload type, if Events
	Events  bool
	PTime   time.Duration // packet time the remote side asked for
	// Direction is this side's: whether it sends and receives.
	Direction Direction
}

// Answer answers a remote offer: the first offered codec this side has,
// the offerer's telephone-event type, and the direction both allow.
func (l Local) Answer(offer Description, sessionID, version uint64) (Description, Params, error) {
	ans := Description{SessionID: sessionID, SessionVersion: version, Addr: l.Addr, PTime: l.ptime()}
	if offer.Addr.Port() == 0 {
		// A declined stream is answered with port 0 (RFC 3264 §6).
		ans.Addr = netip.AddrPortFrom(l.Addr.Addr(), 0)
		ans.Formats = offer.Formats
		ans.Direction = Inactive
		return ans, Params{Direction: Inactive}, nil
	}
	codec, ok := pickCodec(offer.Formats, l.codecs())
	if !ok {
		return Description{}, Params{}, ErrNoCommonCodec
	}
	p := Params{Remote: offer.Addr, Codec: codec, PTime: offer.PTime}
	ans.Formats = []Format{staticFormat(codec.PayloadType())}
	if ev, ok := findEvents(offer.Formats); ok && !l.NoEvents {
		p.Events, p.EventPT = true, ev.PT
		ans.Formats = append(ans.Formats, Format{PT: ev.PT, Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: "0-16"})
	}
	remote := offer.Direction.norm()
	if offer.OnHoldAddr {
		// c=0.0.0.0: do not send to them; they may still send to us.
		remote = remote.Intersect(SendOnly)
	}
	ans.Direction = l.Direction.norm().Intersect(remote.Reverse())
	p.Direction = ans.Direction
	return ans, p, nil
}

// Accept reads the answer to an offer this side made.
func (l Local) Accept(answer Description) (Params, error) {
	if answer.Addr.Port() == 0 {
		return Params{Direction: Inactive}, nil
	}
	codec, ok := pickCodec(answer.Formats, l.codecs())
	if !ok {
		return Params{}, ErrNoCommonCodec
	}
	p := Params{Remote: answer.Addr, Codec: codec, PTime: answer.PTime}
	if ev, ok := findEvents(answer.Formats); ok && !l.NoEvents {
		p.Events, p.EventPT = true, ev.PT
	}
	remote := answer.Direction.norm()
	if answer.OnHoldAddr {
		remote = remote.Intersect(SendOnly)
	}
	p.Direction = l.Direction.norm().Intersect(remote.Reverse())
	return p, nil
}

func pickCodec(formats []Format, ours []Codec) (Codec, bool) {
	for _, f := range formats {
		// Only the static types: a G.711 mapped to a dynamic type is legal
		// but no peer the gateway meets does it.
		c := Codec(f.PT)
		if !c.valid() {
			continue
		}
		if f.Name != "" {
			if named, ok := codecByName(f.Name, f.Rate); !ok || named != c {
				continue
			}
		}
		for _, o := range ours {
			if o == c {
				return c, true
			}
		}
	}
	return 0, false
}

func findEvents(formats []Format) (Format, bool) {
	for _, f := range formats {
		if strings.EqualFold(f.Name, "telephone-event") && f.Rate == 8000 {
			return f, true
		}
	}
	return Format{}, false
}
