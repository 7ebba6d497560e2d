package site

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a fake environment.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e env) opts() Options {
	return Options{LookupEnv: e.lookup, ReadSecretFile: func(p string) ([]byte, error) { return nil, errors.New("no files in this test") }}
}

// exampleEnv holds every secret the example site needs.
func exampleEnv() env {
	return env{
		"KURODENWA_ARI_PASSWORD":                   "AriSecret2026x",
		"KURODENWA_TWILIO_PASSWORD":                "TwilioSecret2026",
		"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": "Kuro-Denwa-2026",
		"KURODENWA_EXTENSIONS_LINPHONE_PASSWORD":   "Soft-Phone-2026a",
		"KURODENWA_EXTENSIONS_AGEPHONE_PASSWORD":   "Soft-Phone-2026b",
		"KURODENWA_PEERS_MINATO_PASSWORD":          "MinatoPeer2026",
	}
}

const examplePath = "../../asterisk-conf/examples/site.yaml"

func TestExampleSiteLoads(t *testing.T) {
	s, err := Load(examplePath, exampleEnv().opts())
	require.NoError(t, err)
	assert.Equal(t, "Kurodenwa Home Exchange", s.Exchange.Name)
	bp := s.Extensions["blackphone"]
	assert.Equal(t, KindBlackPhone, bp.Kind)
	assert.True(t, bp.HangupTone)
	assert.Equal(t, 1, bp.MaxContacts)
	assert.Equal(t, "Kuro-Denwa-2026", bp.Password)
	assert.Equal(t, DefaultTwilioSignalingCIDRs(), s.Twilio.SignalingCIDRs)
	assert.Equal(t, []string{"168.86.128.0/18"}, s.Twilio.MediaCIDRs)
	assert.Equal(t, 20*time.Second, s.RingGroups["home"].MemberTimeout)
	assert.Equal(t, []string{"10.88.1.2"}, s.Peers["shibuya"].Match, "ip peers match their host by default")
	assert.Equal(t, "kurodenwa-home", s.Peers["minato"].InboundUsername)
	assert.Equal(t, 11, s.Numbering.NationalLengths["090"])
	assert.Equal(t, "127.0.0.1:8088", s.ARI.Bind)
}

func TestMinimalSiteDefaults(t *testing.T) {
	s, err := Load("testdata/minimal.yaml", env{
		"KURODENWA_ARI_PASSWORD":                   "AriSecret2026x",
		"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": "Kuro-Denwa-2026",
	}.opts())
	require.NoError(t, err)
	assert.Equal(t, "jp", s.Exchange.ToneZone)
	assert.Equal(t, "0.0.0.0:5060", s.Exchange.SIP.UDP)
	assert.Equal(t, "kurodenwa", s.ARI.App)
	assert.Equal(t, "127.0.0.1:4573", s.ARI.FastAGI)
	assert.Equal(t, 60*time.Second, s.Exchange.RingTimeout)
	assert.False(t, s.Twilio.Enabled)
	assert.Equal(t, "blackphone", s.Extensions["blackphone"].SIPUser)
}

func TestEnvironmentOverrides(t *testing.T) {
	e := exampleEnv()
	e["KURODENWA_EXCHANGE_RTP_START"] = "12000"
	e["KURODENWA_EXCHANGE_RTP_END"] = "12999"
	e["KURODENWA_EXTENSIONS_BLACKPHONE_NUMBER"] = "301"
	e["KURODENWA_TWILIO_SIGNALING_CIDRS"] = "54.65.63.192/30,54.169.127.128/30"
	e["KURODENWA_EXCHANGE_RING_TIMEOUT"] = "45s"
	s, err := Load(examplePath, e.opts())
	require.NoError(t, err)
	assert.Equal(t, 12000, s.Exchange.RTP.Start)
	assert.Equal(t, "301", s.Extensions["blackphone"].Number)
	assert.Equal(t, []string{"54.65.63.192/30", "54.169.127.128/30"}, s.Twilio.SignalingCIDRs)
	assert.Equal(t, 45*time.Second, s.Exchange.RingTimeout)
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	pw := filepath.Join(dir, "ari.pw")
	require.NoError(t, os.WriteFile(pw, []byte("FromFile-2026x\n"), 0o600))
	body, err := os.ReadFile("testdata/minimal.yaml")
	require.NoError(t, err)
	body = append(body, []byte("ari:\n  password_file: "+pw+"\n")...)
	require.NoError(t, os.WriteFile(site, body, 0o644))

	s, err := Load(site, Options{LookupEnv: env{"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": "Kuro-Denwa-2026"}.lookup})
	require.NoError(t, err)
	assert.Equal(t, "FromFile-2026x", s.ARI.Password, "trailing newline trimmed")

	require.NoError(t, os.Chmod(pw, 0o644))
	_, err = Load(site, Options{LookupEnv: env{"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": "Kuro-Denwa-2026"}.lookup})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ari.password_file: cannot read secret")
	assert.Contains(t, err.Error(), "chmod 600")
}

// mutate edits the example site's YAML text and loads it.
func loadEdited(t *testing.T, e env, edit func(string) string) error {
	t.Helper()
	raw, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	_, err = Parse([]byte(edit(string(raw))), "site.yaml", e.opts())
	return err
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		env  map[string]string // added to the example's secrets; "" removes
		want []string          // each a "key: reason" fragment
	}{
		{"unknown key", replace("  name: Kurodenwa Home Exchange", "  nmae: x"), nil,
			[]string{"exchange.nmae: unknown key"}},
		{"scalar where a mapping belongs", replace("extensions:\n  blackphone:", "extensions:\n  stray: 5\n  blackphone:"), nil,
			[]string{"extensions.stray: must be a mapping"}},
		{"secret written in the file", replace("    sip_user: blackphone", "    sip_user: blackphone\n    password: Hunter2Hunter2"), nil,
			[]string{"extensions.blackphone.password: secrets must not be written in the file; set KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"}},
		{"missing secret", nil, map[string]string{"KURODENWA_TWILIO_PASSWORD": ""},
			[]string{"twilio.password: missing secret: set the environment variable KURODENWA_TWILIO_PASSWORD"}},
		{"weak password", nil, map[string]string{"KURODENWA_ARI_PASSWORD": "password"},
			[]string{"ari.password: is weak"}},
		{"bad CIDR", replace("local_net: [192.168.1.0/24, 10.88.0.0/16]", "local_net: [192.168.1.0/33]"), nil,
			[]string{`exchange.nat.local_net[0]: "192.168.1.0/33" is not a CIDR`}},
		{"too wide Twilio range", nil, map[string]string{"KURODENWA_TWILIO_SIGNALING_CIDRS": "0.0.0.0/0"},
			[]string{"twilio.signaling_cidrs[0]: 0.0.0.0/0 admits too many addresses"}},
		{"DID not E.164", replace(`number: "+815012345678"`+"\n      destination: blackphone", `number: "05012345678"`+"\n      destination: blackphone"), nil,
			[]string{`twilio.dids.main.number: "05012345678" is not E.164`}},
		{"DID unquoted loses its plus", replace(`number: "+815087654321"`, `number: +815087654321`), nil,
			[]string{`twilio.dids.family.number: "815087654321" is not E.164`}},
		{"DID to nowhere", replace("destination: home", "destination: nobody"), nil,
			[]string{`twilio.dids.family.destination: "nobody" is neither an extension nor a ring group`}},
		{"extension collides with peer prefix", replace(`number: "203"`, `number: "7150"`), nil,
			[]string{"extensions.agephone.number: 7150 collides with the prefix 71 of peer shibuya"}},
		{"extension collides with hop prefix", replace(`number: "203"`, `number: "99"`), nil,
			[]string{"extensions.agephone.number: 99 collides with exchange.hop_prefix 99"}},
		{"extension is a service code", replace(`number: "203"`, `number: "119"`), nil,
			[]string{"extensions.agephone.number: 119 is a service code"}},
		{"duplicate numbers", replace(`number: "203"`, `number: "202"`), nil,
			[]string{"extensions.linphone.number: 202 is also extensions.agephone.number"}},
		{"ARI public without TLS", nil, map[string]string{"KURODENWA_ARI_BIND": "0.0.0.0:8088"},
			[]string{"ari.bind: 0.0.0.0:8088 is reachable from outside without TLS"}},
		{"FastAGI public", nil, map[string]string{"KURODENWA_ARI_FASTAGI": "203.0.113.5:4573"},
			[]string{"ari.fastagi: 203.0.113.5:4573 would expose FastAGI"}},
		{"bad termination host", nil, map[string]string{"KURODENWA_TWILIO_TERMINATION_HOST": "sip.example.com"},
			[]string{`twilio.termination_host: "sip.example.com" is not a Twilio termination host`}},
		{"bad identifier", nil, map[string]string{"KURODENWA_EXCHANGE_IDENTIFIER": "not-a-uuid"},
			[]string{`exchange.identifier: "not-a-uuid" is not a UUID`}},
		{"unknown tone zone", nil, map[string]string{"KURODENWA_EXCHANGE_TONE_ZONE": "xx"},
			[]string{`exchange.tone_zone: unknown tone zone "xx"`}},
		{"rtp range backwards", nil, map[string]string{"KURODENWA_EXCHANGE_RTP_END": "9000"},
			[]string{"exchange.rtp.end: 9000 must be above rtp.start"}},
		{"wrong type", nil, map[string]string{"KURODENWA_EXCHANGE_RTP_START": "many"},
			[]string{`exchange.rtp.start: wrong type: "many" is not a valid int`}},
		{"ring group member unknown", replace("members: [blackphone, linphone, agephone]", "members: [blackphone, ghost]"), nil,
			[]string{`ring_groups.home.members[1]: "ghost" is not an extension`}},
		{"peer prefix swallows the PSTN", replace(`prefix: "72"`, `prefix: "0"`), nil,
			[]string{"peers.minato.prefix: 0 would take every number starting 0"}},
		{"reserved SIP user", replace("    sip_user: blackphone", "    sip_user: twilio"), nil,
			[]string{`extensions.blackphone.sip_user: "twilio" is reserved`}},
		{"transit without hop prefix", replace(`hop_prefix: "99"`, `hop_prefix: ""`), nil,
			[]string{"peers.shibuya.transit: needs exchange.hop_prefix"}},
		{"peer transport not configured", nil, map[string]string{"KURODENWA_PEERS_SHIBUYA_TRANSPORT": "tls"},
			[]string{"peers.shibuya.transport: tls needs exchange.sip.tls.bind"}},
		{"peer user is a phone's user", replace("    username: kurodenwa-home", "    username: kurodenwa-home\n    inbound_username: linphone"), nil,
			[]string{`peers.minato.inbound_username: "linphone" is also the SIP user of extension linphone`}},
		{"bad ringback", nil, map[string]string{"KURODENWA_CALLS_INBOUND_RINGBACK": "loud"},
			[]string{`calls.inbound_ringback: "loud" is not indicate or tone`}},
		{"no-answer destination unknown", nil, map[string]string{"KURODENWA_CALLS_NO_ANSWER_DESTINATION": "ghost"},
			[]string{`calls.no_answer.destination: "ghost" is neither an extension nor a ring group`}},
		{"unknown transfer handling", nil, map[string]string{"KURODENWA_CALLS_TRANSFER_HANDLING": "ari-only"},
			[]string{`calls.transfer_handling: "ari-only" is not auto, application or core`}},
		{"flash digit a rotary dial sends", nil, map[string]string{"KURODENWA_CALLS_FLASH_DIGIT": "AB"},
			[]string{`calls.flash_digit: "AB" is not one DTMF digit`}},
		{"announcement for no cause", replace("  announcements: {}", `  announcements: {"999": ss-noservice}`), nil,
			[]string{`calls.announcements.999: "999" is not a Q.850 cause`}},
		{"announcement path escape", nil, map[string]string{"KURODENWA_CALLS_NO_ANSWER_ANNOUNCEMENT": "../../etc/passwd"},
			[]string{`calls.no_answer.announcement: "../../etc/passwd" is not a sound name`}},
		{"several problems at once", replace("  name: Kurodenwa Home Exchange", "  name: x"),
			map[string]string{"KURODENWA_EXCHANGE_RTP_END": "9000", "KURODENWA_ARI_PASSWORD": "short"},
			[]string{"exchange.rtp.end:", "ari.password: is weak"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := exampleEnv()
			for k, v := range tt.env {
				if v == "" {
					delete(e, k)
				} else {
					e[k] = v
				}
			}
			edit := tt.edit
			if edit == nil {
				edit = func(s string) string { return s }
			}
			err := loadEdited(t, e, edit)
			require.Error(t, err)
			var inv *InvalidError
			require.ErrorAs(t, err, &inv)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "site.yaml: "), "the message names the file: %v", err)
		})
	}
}

func TestPeerAsSIPURI(t *testing.T) {
	e := exampleEnv()
	e["KURODENWA_PEERS_SHIBUYA_HOST"] = "sip:kurodenwa@10.88.1.2:5070;transport=tcp"
	s, err := Load(examplePath, e.opts())
	require.NoError(t, err)
	p := s.Peers["shibuya"]
	assert.Equal(t, "10.88.1.2:5070", p.Host)
	assert.Equal(t, "tcp", p.Transport)
	assert.Equal(t, []string{"10.88.1.2"}, p.Match)
}

func TestBadYAML(t *testing.T) {
	_, err := Parse([]byte("exchange: [unclosed"), "broken.yaml", env{}.opts())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken.yaml: 1 problem(s):\n  (file): not valid YAML")
}

func TestEnvName(t *testing.T) {
	assert.Equal(t, "KURODENWA_PEERS_TOKYO_A_PASSWORD", EnvName("peers.tokyo-a.password"))
	assert.Equal(t, "KURODENWA_EXCHANGE_RTP_START", EnvName("exchange.rtp.start"))
}

// FuzzParse feeds arbitrary bytes as a site file: the loader must return a
// site or an error, never panic, and a site it returns must be valid.
func FuzzParse(f *testing.F) {
	for _, p := range []string{examplePath, "testdata/minimal.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("extensions: {a: {number: [1]}}"))
	f.Add([]byte("peers: {x: {prefix: 7, match: 1.2.3.4/0}}\nexchange: {rtp: {start: -1}}"))
	e := exampleEnv()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", e.opts())
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if probs := s.validate(); len(probs) > 0 {
			t.Fatalf("Parse returned a site with problems: %v", probs)
		}
	})
}
