package directory

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

const (
	idA = "aaaaaaaa-0000-4000-8000-000000000001"
	idB = "bbbbbbbb-0000-4000-8000-000000000002"
	idC = "cccccccc-0000-4000-8000-000000000003"
	idD = "dddddddd-0000-4000-8000-000000000004"
)

// documents serves Mantela documents by path on 127.0.0.1.
type documents struct {
	server *httptest.Server
	mu     sync.Mutex
	docs   map[string][]byte
}

func serveDocuments(t *testing.T) *documents {
	t.Helper()
	d := &documents{docs: map[string][]byte{}}
	d.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		data, ok := d.docs[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(d.server.Close)
	return d
}

func (d *documents) url(path string) string { return d.server.URL + path }

func (d *documents) put(t *testing.T, path string, doc *mantela.Document) {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = data
}

func (d *documents) putRaw(path, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = []byte(body)
}

func (d *documents) remove(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.docs, path)
}

func exchange(id, name, preferred, self string, providers ...mantela.Provider) *mantela.Document {
	doc := &mantela.Document{
		Version: "0.1.0",
		AboutMe: mantela.AboutMe{Name: name, Identifier: id, PreferredPrefix: []string{preferred}},
		Extensions: []mantela.Extension{
			{Name: "desk", Extension: "100", Type: "dialphone"},
		},
	}
	if self != "" {
		doc.Providers = append(doc.Providers, mantela.Provider{Name: name, Prefix: self, Identifier: id})
	}
	doc.Providers = append(doc.Providers, providers...)
	return doc
}

func provider(id, prefix, url string) mantela.Provider {
	return mantela.Provider{Name: id[:1], Prefix: prefix, Identifier: id, Mantela: url}
}

// network: A (us) has peers B (71) and D (72). B passes calls on (self 9)
// to C (3); D passes on (self 8) to C (4444). C prefers 0300 and lists
// extension 100; D also prefers 0300 for ambiguity tests when asked.
func network(t *testing.T, docs *documents) *site.Site {
	t.Helper()
	docs.put(t, "/b.json", exchange(idB, "Bravo", "0200", "9", provider(idA, "1", ""), provider(idC, "3", "/c.json")))
	docs.put(t, "/c.json", exchange(idC, "Charlie", "0300", "8", provider(idB, "1", "/b.json")))
	docs.put(t, "/d.json", exchange(idD, "Delta", "0400", "8", provider(idC, "4444", "/c.json")))
	return &site.Site{
		Exchange: site.Exchange{Name: "Alpha", Identifier: idA, PreferredPrefix: "0100", HopPrefix: "99"},
		Peers: map[string]site.Peer{
			"bravo": {Identifier: idB, Prefix: "71", Mantela: docs.url("/b.json")},
			"delta": {Identifier: idD, Prefix: "72", Mantela: docs.url("/d.json")},
		},
	}
}

func newDirectory(t *testing.T, s *site.Site, cfg Config) *Directory {
	t.Helper()
	d, err := New(s, cfg)
	require.NoError(t, err)
	return d
}

func refresh(t *testing.T, d *Directory) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Refresh(ctx))
}

func TestLookupComposesHopNumbers(t *testing.T) {
	docs := serveDocuments(t)
	d := newDirectory(t, network(t, docs), Config{CostModel: "push"})

	_, ok := d.Lookup("0300100", nil)
	assert.False(t, ok, "nothing beyond the peers before the first walk")

	refresh(t, d)
	tests := []struct {
		name   string
		digits string
		avoid  []string
		want   route.DirectoryRoute
		found  bool
	}{
		{name: "through B's self prefix", digits: "0300100", found: true, want: route.DirectoryRoute{
			Exchange: idC, Name: "Charlie", Prefix: "0300", Extension: "100", Number: "7193100",
			Via: []string{idB, idC}, Names: []string{"Bravo", "Charlie"}}},
		{name: "avoiding B goes through D", digits: "0300100", avoid: []string{idB}, found: true, want: route.DirectoryRoute{
			Exchange: idC, Name: "Charlie", Prefix: "0300", Extension: "100", Number: "7284444100",
			Via: []string{idD, idC}, Names: []string{"Delta", "Charlie"}}},
		{name: "a direct peer by its preferred prefix", digits: "0200100", found: true, want: route.DirectoryRoute{
			Exchange: idB, Name: "Bravo", Prefix: "0200", Extension: "100", Number: "71100",
			Via: []string{idB}, Names: []string{"Bravo"}}},
		{name: "an unlisted extension still routes", digits: "0300555", found: true, want: route.DirectoryRoute{
			Exchange: idC, Name: "Charlie", Prefix: "0300", Extension: "555", Number: "7193555",
			Via: []string{idB, idC}, Names: []string{"Bravo", "Charlie"}}},
		{name: "our own prefix is not looked up", digits: "0100100"},
		{name: "unknown prefix", digits: "0500100"},
		{name: "prefix alone", digits: "0300"},
		{name: "no way left", digits: "0300100", avoid: []string{idB, idD}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := d.Lookup(tt.digits, tt.avoid)
			require.Equal(t, tt.found, ok, "%+v", got)
			if tt.found {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestLookupPrefersListedExtensions(t *testing.T) {
	docs := serveDocuments(t)
	s := network(t, docs)
	// E prefers 03 and lists 00100; C (0300) does not list 100 any more.
	c := exchange(idC, "Charlie", "0300", "8", provider(idB, "1", "/b.json"), provider("eeeeeeee-0000-4000-8000-000000000005", "5", "/e.json"))
	c.Extensions = nil
	docs.put(t, "/c.json", c)
	e := exchange("eeeeeeee-0000-4000-8000-000000000005", "Echo", "03", "")
	e.Extensions = []mantela.Extension{{Name: "x", Extension: "00100", Type: "phone"}}
	docs.put(t, "/e.json", e)
	d := newDirectory(t, s, Config{CostModel: "push"})
	refresh(t, d)

	got, ok := d.Lookup("0300100", nil)
	require.True(t, ok)
	assert.Equal(t, "Echo", got.Name, "the shorter prefix whose exchange lists the extension")
	assert.Equal(t, "71938500100", got.Number)

	got, ok = d.Lookup("0300777", nil)
	require.True(t, ok)
	assert.Equal(t, "Charlie", got.Name, "no listing anywhere: the longest prefix")
}

func TestLookupSkipsAmbiguousPrefixes(t *testing.T) {
	docs := serveDocuments(t)
	s := network(t, docs)
	docs.put(t, "/d.json", exchange(idD, "Delta", "0300", "8", provider(idC, "4444", "/c.json")))
	d := newDirectory(t, s, Config{})
	refresh(t, d)
	_, ok := d.Lookup("0300100", nil)
	assert.False(t, ok, "C and D both prefer 0300")
}

func TestLookupCostModel(t *testing.T) {
	docs := serveDocuments(t)
	s := network(t, docs)
	// B reaches C with 3 (3 pulses), D with 4444 (16 pulses, 4 digits).
	// Under hop count and push-button B wins; so does it at 10 pps.
	for _, model := range []string{"", "push", "pulse20", "hops"} {
		d := newDirectory(t, s, Config{CostModel: model})
		refresh(t, d)
		got, ok := d.Lookup("0300100", nil)
		require.True(t, ok, model)
		assert.Equal(t, "7193100", got.Number, model)
	}
	_, err := New(s, Config{CostModel: "rotary"})
	assert.Error(t, err)

	// A star forces push-button pricing, which can dial it.
	d := newDirectory(t, s, Config{})
	refresh(t, d)
	got, ok := d.Lookup("0300*9", nil)
	require.True(t, ok)
	assert.Equal(t, "7193*9", got.Number)
}

func TestStatusReportsProblems(t *testing.T) {
	docs := serveDocuments(t)
	s := network(t, docs)
	docs.putRaw("/d.json", `{"aboutMe": "broken"}`)
	s.Peers["golf"] = site.Peer{Identifier: "99999999-0000-4000-8000-000000000009", Prefix: "73", Mantela: docs.url("/missing.json")}
	d := newDirectory(t, s, Config{CacheDir: t.TempDir()})

	before := d.Status()
	assert.Nil(t, before.Refreshed)
	assert.Equal(t, []string{docs.url("/b.json"), docs.url("/d.json"), docs.url("/missing.json")}, before.StartURLs)

	refresh(t, d)
	st := d.Status()
	require.NotNil(t, st.Refreshed)
	assert.Equal(t, idA, st.Identifier)
	assert.Equal(t, "pulse-10pps", st.CostModel)
	assert.Equal(t, 2, st.Exchanges, "B and C")
	require.Len(t, st.Problems, 2)
	byURL := map[string]Problem{}
	for _, p := range st.Problems {
		byURL[p.URL] = p
	}
	assert.Contains(t, byURL[docs.url("/d.json")].Error, "aboutMe")
	assert.Equal(t, []string{"start URL"}, byURL[docs.url("/d.json")].ReferencedBy)
	assert.Contains(t, byURL[docs.url("/missing.json")].Error, "404")

	// B's server goes away: its last good copy stands in.
	docs.remove("/b.json")
	refresh(t, d)
	st = d.Status()
	assert.Equal(t, []string{docs.url("/b.json")}, st.FromCache)
	_, ok := d.Lookup("0300100", nil)
	assert.True(t, ok, "routing survives the outage")
}

func TestRoutesReport(t *testing.T) {
	docs := serveDocuments(t)
	d := newDirectory(t, network(t, docs), Config{CostModel: "push"})
	refresh(t, d)

	r, err := d.Routes("0300", "100", "")
	require.NoError(t, err)
	assert.Equal(t, Exchange{Identifier: idA, Name: "Alpha"}, r.From)
	assert.Equal(t, "push-button", r.CostModel)
	assert.Equal(t, "ms", r.Unit)
	assert.Equal(t, PathReport{
		Number: "7193100", Cost: 7 * 120, Peer: "bravo", Trunk: "peer-bravo", Send: "93100", Listed: true,
		Hops: []HopReport{{Identifier: idA, Name: "Alpha"}, {Identifier: idB, Name: "Bravo", Dialled: "71"}, {Identifier: idC, Name: "Charlie", Dialled: "93"}},
	}, r.Best)
	require.Len(t, r.Alternatives, 1)
	assert.Equal(t, "7284444100", r.Alternatives[0].Number)
	assert.Equal(t, "peer-delta", r.Alternatives[0].Trunk)

	r, err = d.Routes(idC, "100", "hops")
	require.NoError(t, err)
	assert.Equal(t, int64(2), r.Best.Cost)

	_, err = d.Routes("0999", "100", "")
	assert.ErrorIs(t, err, mantela.ErrUnknownExchange)
	_, err = d.Routes("0300", "100", "rotary")
	assert.ErrorIs(t, err, mantela.ErrNotDialable)
}

func TestRunWithoutStartURLs(t *testing.T) {
	d := newDirectory(t, &site.Site{Exchange: site.Exchange{Name: "Alone", Identifier: idA}}, Config{})
	assert.NoError(t, d.Run(context.Background()), "returns at once")
	assert.Empty(t, d.Status().StartURLs)
}

func TestRunRefreshesUntilCancelled(t *testing.T) {
	docs := serveDocuments(t)
	d := newDirectory(t, network(t, docs), Config{RefreshInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool { return d.Status().Refreshed != nil }, 10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestStartURLs(t *testing.T) {
	s := &site.Site{Peers: map[string]site.Peer{
		"b": {Mantela: "https://b.example/m.json"},
		"a": {Mantela: "https://a.example/m.json"},
		"c": {},
		"d": {Mantela: "https://a.example/m.json"},
	}}
	assert.Equal(t, []string{"https://a.example/m.json", "https://b.example/m.json", "https://x.example/all.json"},
		StartURLs(s, []string{" https://x.example/all.json", "", "https://b.example/m.json"}))
}
