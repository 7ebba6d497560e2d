// Package asteriskconf renders the PBX Pi's whole Asterisk configuration
// (18–22) from a site: PJSIP, the dialplan, ARI and its HTTP server, RTP,
// tones, music on hold, modules and logging. Output is deterministic and
// written atomically; Render refuses nothing a validated site can hold,
// because validation (package site) already refused every unsafe site.
package asteriskconf

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/kurodenwa/kurodenwa/dialplan"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/tone"
)

//go:embed templates/*.tmpl
var templates embed.FS

// File is one rendered configuration file.
type File struct {
	Name string // base name, e.g. pjsip.conf
	Mode uint32 // permission bits; files holding secrets are 0640
	Data []byte
}

// Files is a rendered configuration, in a fixed order.
type Files []File

// Get returns the file named name.
func (fs Files) Get(name string) (File, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Names lists the files Render writes.
func Names() []string {
	return []string{"pjsip.conf", "extensions.conf", "ari.conf", "http.conf", "rtp.conf",
		"indications.conf", "musiconhold.conf", "modules.conf", "logger.conf", "manager.conf"}
}

// secretFiles hold passwords and must not be world-readable.
var secretFiles = map[string]bool{"pjsip.conf": true, "ari.conf": true}

// Render renders every file for s.
func Render(s *site.Site) (Files, error) {
	if s == nil {
		return nil, fmt.Errorf("asterisk-conf: no site")
	}
	ext, err := dialplan.Render(s)
	if err != nil {
		return nil, err
	}
	views := map[string]any{
		"pjsip.conf":       pjsipView(s),
		"ari.conf":         ariView(s),
		"http.conf":        httpView(s),
		"rtp.conf":         map[string]any{"ExchangeName": commentSafe(s.Exchange.Name), "Start": s.Exchange.RTP.Start, "End": s.Exchange.RTP.End},
		"indications.conf": indicationsView(s),
		"musiconhold.conf": map[string]any{"ExchangeName": commentSafe(s.Exchange.Name), "Directory": s.Exchange.MusicOnHoldDir},
		"modules.conf":     map[string]any{"ExchangeName": commentSafe(s.Exchange.Name), "NoLoad": noLoad},
		"logger.conf":      map[string]any{"ExchangeName": commentSafe(s.Exchange.Name)},
		"manager.conf":     map[string]any{"ExchangeName": commentSafe(s.Exchange.Name)},
	}
	var out Files
	for _, name := range Names() {
		var data []byte
		if name == "extensions.conf" {
			data = ext
		} else if data, err = execute(name, views[name]); err != nil {
			return nil, err
		}
		mode := uint32(0o644)
		if secretFiles[name] {
			mode = 0o640
		}
		out = append(out, File{Name: name, Mode: mode, Data: data})
	}
	return out, nil
}

func execute(name string, view any) ([]byte, error) {
	t, err := template.New(name+".tmpl").Option("missingkey=error").ParseFS(templates, "templates/"+name+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("asterisk-conf: template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("asterisk-conf: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// noLoad keeps out the channel drivers and services kurodenwa does not use.
// A name Asterisk does not have (chan_sip after 21) is ignored by it.
// chan_rtp stays: ARI external media (UnicastRTP) needs it; so does
// chan_websocket where the ARI application streams media over websockets.
var noLoad = []string{
	"chan_sip.so", "chan_iax2.so", "chan_skinny.so", "chan_mgcp.so", "chan_unistim.so",
	"chan_motif.so", "chan_ooh323.so", "chan_alsa.so", "chan_oss.so", "chan_console.so",
	"chan_mobile.so", "chan_dahdi.so", "chan_phone.so", "chan_audiosocket.so",
	"pbx_dundi.so", "pbx_ael.so", "pbx_lua.so", "res_xmpp.so", "res_phoneprov.so",
	"res_pjsip_phoneprov_provider.so", "cdr_radius.so", "cel_radius.so",
}

type transport struct {
	Name, Protocol, Bind, CertFile, KeyFile string
}

type twilioView struct {
	Host, HostPort, Transport, ContactParams, Username, Password string
	SRTP                                                         bool
	SignalingCIDRs                                               []string
}

type phoneView struct {
	Name, Comment, Context, DisplayName, Number, SIPUser, Password string
	MaxContacts, BusyAt, Qualify                                   int
	MaxContactsWhy                                                 string
	SetVars                                                        []string
}

type peerView struct {
	Name, Endpoint, Comment, Prefix, AuthComment, Transport, Host, ContactParams string
	Username, InboundUsername, Password, AllowPSTN                               string
	Credentials                                                                  bool
	Match                                                                        []string
}

func transportName(proto string) string { return "transport-" + proto }

func contactParams(proto string) string {
	if proto == "udp" {
		return ""
	}
	return ";transport=" + proto
}

func pjsipView(s *site.Site) map[string]any {
	x := s.Exchange
	var ts []transport
	if x.SIP.UDP != "" {
		ts = append(ts, transport{Name: transportName("udp"), Protocol: "udp", Bind: x.SIP.UDP})
	}
	if x.SIP.TCP != "" {
		ts = append(ts, transport{Name: transportName("tcp"), Protocol: "tcp", Bind: x.SIP.TCP})
	}
	if x.SIP.TLS.Bind != "" {
		ts = append(ts, transport{Name: transportName("tls"), Protocol: "tls", Bind: x.SIP.TLS.Bind, CertFile: x.SIP.TLS.CertFile, KeyFile: x.SIP.TLS.KeyFile})
	}
	v := map[string]any{
		"ExchangeName":      commentSafe(x.Name),
		"Transports":        ts,
		"LocalNets":         x.NAT.LocalNet,
		"ExternalSignaling": x.NAT.ExternalSignalingAddress,
		"ExternalMedia":     x.NAT.ExternalMediaAddress,
		"Twilio":            (*twilioView)(nil),
	}
	if t := s.Twilio; t.Enabled {
		hostPort := t.TerminationHost
		if t.Transport == "tls" {
			hostPort += ":5061"
		}
		v["Twilio"] = &twilioView{
			Host: t.TerminationHost, HostPort: hostPort, SRTP: t.Transport == "tls",
			Transport: transportName(t.Transport), ContactParams: contactParams(t.Transport),
			Username: t.Username, Password: t.Password, SignalingCIDRs: t.SignalingCIDRs,
		}
	}
	var phones []phoneView
	for _, name := range sortedKeys(s.Extensions) {
		e := s.Extensions[name]
		p := phoneView{
			Name: e.Endpoint(), Context: dialplan.ContextFor(e), DisplayName: e.DisplayName, Number: e.Number,
			SIPUser: e.SIPUser, Password: e.Password, MaxContacts: e.MaxContacts, BusyAt: 1,
			Qualify:        int(e.QualifyFrequency / time.Second),
			MaxContactsWhy: "several devices may register (phone and desktop); the newest replaces the oldest",
		}
		if e.Kind == site.KindBlackPhone {
			p.Comment = fmt.Sprintf("Black phone %q (pi-gateway), extension %s", name, e.Number)
			p.MaxContactsWhy = "one telephone Pi: a second registration would take its calls"
		} else {
			p.Comment = fmt.Sprintf("Softphone %q, extension %s", name, e.Number)
			p.BusyAt = 0
		}
		if e.HangupTone {
			p.SetVars = append(p.SetVars, "KD_HANGUP_TONE=yes")
		}
		phones = append(phones, p)
	}
	v["Phones"] = phones
	var peers []peerView
	for _, name := range sortedKeys(s.Peers) {
		p := s.Peers[name]
		pv := peerView{
			Name: name, Endpoint: site.PeerEndpoint(name), Comment: fmt.Sprintf("%q (%s)", name, commentSafe(p.DisplayName)),
			Prefix: p.Prefix, Transport: transportName(p.Transport), Host: p.Host, ContactParams: contactParams(p.Transport),
			AllowPSTN: "no", Match: p.Match,
		}
		if p.AllowPSTN {
			pv.AllowPSTN = "yes"
		}
		if p.Auth == site.AuthCredentials {
			pv.Credentials, pv.Username, pv.InboundUsername, pv.Password = true, p.Username, p.InboundUsername, p.Password
			pv.AuthComment = "authenticated by user name and password both ways"
		} else {
			pv.AuthComment = "identified by source address"
		}
		peers = append(peers, pv)
	}
	v["Peers"] = peers
	return v
}

func ariView(s *site.Site) map[string]any {
	return map[string]any{"ExchangeName": commentSafe(s.Exchange.Name), "App": s.ARI.App, "User": s.ARI.User, "Password": s.ARI.Password}
}

// httpView: without TLS, HTTP listens on ari.bind (loopback or the LAN, as
// validation allows). With TLS, HTTPS listens on ari.bind and plain HTTP
// only on loopback, so no password crosses a network in clear.
func httpView(s *site.Site) map[string]any {
	host, port, _ := net.SplitHostPort(s.ARI.Bind) // validated
	why := "it listens on loopback only, for the ARI application on this Pi."
	switch {
	case s.ARI.CertFile != "":
		why = "HTTPS listens on " + s.ARI.Bind + ", plain HTTP on loopback only."
		host = "127.0.0.1"
	case host != "127.0.0.1" && host != "::1":
		why = "it listens beyond loopback; keep it off the WAN (firewall)."
	}
	return map[string]any{
		"ExchangeName": commentSafe(s.Exchange.Name), "BindAddr": host, "BindPort": port, "BindComment": why,
		"CertFile": s.ARI.CertFile, "KeyFile": s.ARI.KeyFile, "TLSBind": s.ARI.Bind,
	}
}

type toneLine struct{ Name, List string }

type zoneView struct {
	Name, Description, Cadence string
	Tones                      []toneLine
}

func indicationsView(s *site.Site) map[string]any {
	var zones []zoneView
	for _, z := range tone.Zones() {
		zv := zoneView{Name: z.Name, Description: z.Description}
		var cad []string
		for _, ms := range z.RingCadence {
			cad = append(cad, fmt.Sprint(ms))
		}
		zv.Cadence = strings.Join(cad, ",")
		for _, n := range z.ToneNames() {
			zv.Tones = append(zv.Tones, toneLine{Name: n, List: z.Tones[n]})
		}
		zones = append(zones, zv)
	}
	return map[string]any{"ExchangeName": commentSafe(s.Exchange.Name), "Default": s.Exchange.ToneZone, "Zones": zones}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
