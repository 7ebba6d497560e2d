package mantela

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
)

func loadSite(t *testing.T, path string) *site.Site {
	t.Helper()
	return sitetest.Load(t, path, nil)
}

var repositorySites = map[string]string{
	"example": "../../asterisk-conf/examples/site.yaml",
	"minimal": "../../asterisk-conf/testdata/minimal.yaml",
	"tls":     "../../asterisk-conf/testdata/tls.yaml",
}

func TestFromSiteIsValid(t *testing.T) {
	validator := newSharedValidator(t)
	for name, path := range repositorySites {
		t.Run(name, func(t *testing.T) {
			doc := FromSite(loadSite(t, path))
			data, err := json.Marshal(doc)
			require.NoError(t, err)
			require.NoError(t, validator.Validate(data), "%s", data)

			parsed, err := Parse(data, name)
			require.NoError(t, err)
			assert.Equal(t, doc, parsed, "the published document reads back unchanged")
		})
	}
}

func TestFromSiteExample(t *testing.T) {
	s := loadSite(t, repositorySites["example"])
	doc := FromSite(s)
	self := "6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41"

	assert.Equal(t, SchemaURL, doc.Schema)
	assert.Equal(t, AboutMe{
		Name:            "Kurodenwa Home Exchange",
		Identifier:      self,
		PreferredPrefix: []string{"9203"},
		SIPURI:          []string{"sip:pbx.example.net:5060;transport=udp", "sip:pbx.example.net:5060;transport=tcp"},
	}, doc.AboutMe)

	black := ExtensionIdentifier(self, "blackphone")
	linphone := ExtensionIdentifier(self, "linphone")
	agephone := ExtensionIdentifier(self, "agephone")
	assert.Equal(t, []Extension{
		{Name: "Home", Extension: "200", Identifier: ExtensionIdentifier(self, "home"), Type: TypeMain,
			TransferTo: []string{black, linphone, agephone}},
		{Name: "Black Phone", Extension: "201", Identifier: black, Type: TypeDialphone},
		{Name: "Linphone", Extension: "202", Identifier: linphone, Type: TypeCellphone},
	}, doc.Extensions, "public extensions only; the ring group lists every member")

	assert.Equal(t, []Provider{
		// minato has no identifier and cannot be listed.
		{Name: "Shibuya Exchange", Prefix: "71", Identifier: "2c7b9d0e-5a41-4f3b-8e62-9d1a7c3f0b58", Mantela: "https://shibuya.example.org/mantela.json"},
		{Name: "Kurodenwa Home Exchange", Prefix: "99", Identifier: self},
	}, doc.Providers)
	assert.Equal(t, []string{"99"}, doc.SelfPrefixes())
}

func TestFromSiteMinimal(t *testing.T) {
	doc := FromSite(loadSite(t, repositorySites["minimal"]))
	assert.Empty(t, doc.AboutMe.PreferredPrefix)
	assert.Empty(t, doc.AboutMe.SIPURI, "a loopback transport is not published")
	assert.Empty(t, doc.Extensions, "nothing is public by default")
	assert.Empty(t, doc.Providers, "no peers and no hop prefix")

	data, err := json.Marshal(doc)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"$schema": "https://tkytel.github.io/mantela/0.1.x/mantela.schema.json",
		"version": "0.1.0",
		"aboutMe": {"name": "Minimal", "identifier": "0b9e1f1e-3c6d-4a7f-8c1e-2d5b6a7c8d9e", "preferredPrefix": []},
		"extensions": [],
		"providers": []
	}`, string(data))
}

func TestExtensionIdentifier(t *testing.T) {
	a := ExtensionIdentifier("6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41", "blackphone")
	assert.Equal(t, a, ExtensionIdentifier("6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41", "blackphone"), "stable")
	assert.NotEqual(t, a, ExtensionIdentifier("6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41", "linphone"), "per extension")
	assert.NotEqual(t, a, ExtensionIdentifier("0b9e1f1e-3c6d-4a7f-8c1e-2d5b6a7c8d9e", "blackphone"), "per exchange")
	parsed, err := uuid.Parse(a)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(5), parsed.Version())
	assert.True(t, isIdentifier(ExtensionIdentifier("not a uuid", "x")), "any exchange identifier gives a valid one")
}

func TestSIPURIs(t *testing.T) {
	tests := []struct {
		name     string
		sip      site.SIP
		external string
		want     []string
	}{
		{"wildcard without external address", site.SIP{UDP: "0.0.0.0:5060"}, "", nil},
		{"loopback", site.SIP{UDP: "127.0.0.1:5060"}, "", nil},
		{"specific address", site.SIP{UDP: "10.88.0.1:5060"}, "", []string{"sip:10.88.0.1:5060;transport=udp"}},
		{"IPv6", site.SIP{TCP: "[2001:db8::1]:5062"}, "", []string{"sip:[2001:db8::1]:5062;transport=tcp"}},
		{"external name", site.SIP{UDP: "0.0.0.0:5060", TLS: site.TLSTransport{Bind: "0.0.0.0:5061"}}, "pbx.example.net",
			[]string{"sip:pbx.example.net:5060;transport=udp", "sips:pbx.example.net:5061;transport=tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &site.Site{Exchange: site.Exchange{SIP: tt.sip, NAT: site.NAT{ExternalSignalingAddress: tt.external}}}
			assert.Equal(t, tt.want, SIPURIs(s))
		})
	}
}

// FuzzFromSiteRoundTrip publishes sites built from arbitrary names and
// numbers: the document must marshal, parse back unchanged and satisfy the
// schema.
func FuzzFromSiteRoundTrip(f *testing.F) {
	f.Add("Home", "9203", "99", "blackphone", "201", "Black Phone", true, "shibuya", "71", "https://s.example/m.json")
	f.Add("", "", "", "x", "1", "", false, "p", "5", "")
	f.Add("\"quoted\" <name>\n", "0", "1", "名前", "12", "電話", true, "peer", "0", "relative.json")
	validator, err := NewSchemaValidator(filepath.Join(sharedMantelaDir(f), "0.1.x"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, name, preferred, hop, extName, extNumber, display string, black bool, peerName, peerPrefix, peerURL string) {
		for _, s := range []string{name, extName, display, peerName, peerURL} {
			if !utf8.ValidString(s) {
				t.Skip("JSON carries text; invalid UTF-8 is replaced on marshalling")
			}
		}
		kind := site.KindSoftphone
		if black {
			kind = site.KindBlackPhone
		}
		s := &site.Site{
			Exchange: site.Exchange{Name: name, Identifier: "6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41",
				PreferredPrefix: digitsOf(preferred), HopPrefix: digitsOf(hop)},
			Extensions: map[string]site.Extension{extName: {Number: "2" + digitsOf(extNumber), Kind: kind, DisplayName: display, Public: true}},
			RingGroups: map[string]site.RingGroup{"all": {Number: "3" + digitsOf(extNumber), Members: []string{extName}, Public: true}},
			Peers:      map[string]site.Peer{peerName: {Identifier: "2c7b9d0e-5a41-4f3b-8e62-9d1a7c3f0b58", Prefix: digitsOf(peerPrefix), Mantela: peerURL}},
		}
		doc := FromSite(s)
		data, err := json.Marshal(doc)
		require.NoError(t, err)
		parsed, err := Parse(data, "fuzz")
		require.NoError(t, err)
		assert.Equal(t, doc, parsed)
		assert.NoError(t, validator.Validate(data), "%s", data)
	})
}

// digitsOf keeps the digits of s: site validation guarantees prefixes and
// numbers are digits.
func digitsOf(s string) string {
	var b []byte
	for i := 0; i < len(s) && len(b) < 16; i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
