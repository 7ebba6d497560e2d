package mantela

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSite serves documents from memory on 127.0.0.1 and counts requests.
type testSite struct {
	server *httptest.Server

	mu     sync.Mutex
	bodies map[string][]byte
	status map[string]int
	hits   map[string]int

	// hang, if set, is run for paths starting with /hang/ instead of serving
	// a body; it returns when the handler may answer.
	hang func(r *http.Request)
}

func newTestSite(t testing.TB) *testSite {
	t.Helper()
	site := &testSite{bodies: make(map[string][]byte), status: make(map[string]int), hits: make(map[string]int)}
	site.server = httptest.NewServer(http.HandlerFunc(site.serve))
	t.Cleanup(site.server.Close)
	return site
}

func (s *testSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	body, found := s.bodies[r.URL.Path]
	status := s.status[r.URL.Path]
	hang := s.hang
	s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/hang/") && hang != nil {
		hang(r)
	}
	switch {
	case status != 0:
		http.Error(w, "failure requested by test", status)
	case !found:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		// Paths under /chunked/ omit Content-Length, so that the reader's
		// own limit is what stops an oversized body.
		if !strings.HasPrefix(r.URL.Path, "/chunked/") {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		_, _ = w.Write(body)
	}
}

func (s *testSite) url(path string) string { return s.server.URL + path }

func (s *testSite) put(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[path] = body
	delete(s.status, path)
}

func (s *testSite) putDoc(t testing.TB, path string, doc *Document) {
	s.put(path, mustMarshal(t, doc))
}

func (s *testSite) fail(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[path] = status
}

func (s *testSite) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// linked returns a provider entry pointing at mantelaURL.
func linked(identifier, prefix, mantelaURL string) Provider {
	provider := peer(identifier, prefix)
	provider.Mantela = mantelaURL
	return provider
}

func identifiers(network *Network) []string {
	var ids []string
	for _, exchange := range network.List() {
		ids = append(ids, exchange.Document.AboutMe.Identifier)
	}
	return ids
}

func findProblem(t *testing.T, network *Network, url string) Problem {
	t.Helper()
	for _, problem := range network.Problems {
		if problem.URL == url {
			return problem
		}
	}
	t.Fatalf("no problem reported for %s; problems: %v", url, network.Problems)
	return Problem{}
}

func TestFetchWalksNetwork(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0",
		linked("A", "0", site.url("/a.json")),
		linked("B", "1", site.url("/b.json")),
		linked("C", "2", site.url("/c.json")),
	))
	site.putDoc(t, "/b.json", exchangeDoc("B", "0",
		linked("C", "3", site.url("/c.json")),
		linked("D", "4", site.url("/missing.json")),
		linked("E", "5", site.url("/broken.json")),
	))
	site.putDoc(t, "/c.json", exchangeDoc("C", "0",
		linked("A", "6", site.url("/a.json")),
		linked("F", "7", "f.json#fragment"),
	))
	site.putDoc(t, "/f.json", exchangeDoc("F", "",
		linked("G", "8", "ftp://example.com/g.json"),
	))
	site.put("/broken.json", []byte(`{"aboutMe": {"identifier": "E"}, "providers": [{"identifier": "X", "prefix": "1a"}]}`))

	network, err := NewFetcher().Fetch(context.Background(), site.url("/a.json"))
	require.NoError(t, err)

	assert.Equal(t, []string{"A", "B", "C", "F"}, identifiers(network))
	assert.Equal(t, 0, network.Exchanges["A"].Depth)
	assert.Equal(t, 1, network.Exchanges["C"].Depth)
	assert.Equal(t, 2, network.Exchanges["F"].Depth)
	assert.Equal(t, site.url("/f.json"), network.Exchanges["F"].URL, "relative URL resolved, fragment dropped")
	for _, path := range []string{"/a.json", "/b.json", "/c.json", "/f.json", "/missing.json", "/broken.json"} {
		assert.Equal(t, 1, site.hitCount(path), "%s fetched once", path)
	}

	require.Len(t, network.Problems, 3)
	missing := findProblem(t, network, site.url("/missing.json"))
	var statusErr *StatusError
	require.ErrorAs(t, missing.Err, &statusErr)
	assert.Equal(t, http.StatusNotFound, statusErr.StatusCode)
	assert.Equal(t, []Reference{{Exchange: "B", Name: "Exchange B", URL: site.url("/b.json"), Identifier: "D"}}, missing.ReferencedBy)
	assert.Contains(t, missing.String(), "referenced by B (Exchange B) at "+site.url("/b.json"))

	broken := findProblem(t, network, site.url("/broken.json"))
	assert.ErrorIs(t, broken.Err, ErrInvalid)
	assert.Contains(t, broken.Err.Error(), "providers[0].prefix: must be a string of digits")

	badURL := findProblem(t, network, "ftp://example.com/g.json")
	assert.ErrorIs(t, badURL.Err, ErrBadURL)
	assert.Equal(t, "F", badURL.ReferencedBy[0].Exchange)

	assert.Contains(t, network.Edges(), Edge{From: "B", To: "D", Prefix: "4"})
	assert.NotContains(t, network.Edges(), Edge{From: "A", To: "A", Prefix: "0"}, "self entries are not edges")

	path, err := network.Graph().Route("A", "F", "100", PushButton)
	require.NoError(t, err)
	assert.Equal(t, "207100", path.Number)
}

func TestFetchDepthLimit(t *testing.T) {
	site := newTestSite(t)
	for i, id := range []string{"A", "B", "C", "D"} {
		next := string(rune('A' + i + 1))
		site.putDoc(t, "/"+id+".json", exchangeDoc(id, "0", linked(next, "1", site.url("/"+next+".json"))))
	}
	tests := []struct {
		depth int
		want  []string
	}{
		{depth: 0, want: []string{"A"}},
		{depth: 1, want: []string{"A", "B"}},
		{depth: 3, want: []string{"A", "B", "C", "D"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.depth), func(t *testing.T) {
			network, err := NewFetcher(WithMaxDepth(tt.depth)).Fetch(context.Background(), site.url("/A.json"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, identifiers(network))
		})
	}
}

func TestFetchSkipsLoadedIdentifiers(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("B", "1", site.url("/b1.json")), linked("C", "2", site.url("/c.json"))))
	site.putDoc(t, "/b1.json", exchangeDoc("B", "0"))
	site.putDoc(t, "/b2.json", exchangeDoc("B", "0"))
	site.putDoc(t, "/c.json", exchangeDoc("C", "0", linked("B", "3", site.url("/b2.json"))))

	network, err := NewFetcher().Fetch(context.Background(), site.url("/a.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B", "C"}, identifiers(network))
	assert.Equal(t, 0, site.hitCount("/b2.json"), "B was already loaded when C listed another URL for it")
	assert.Empty(t, network.Problems)
}

func TestFetchDuplicateAndMismatchedIdentifiers(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("X", "1", site.url("/x1.json")), linked("Y", "2", site.url("/x2.json"))))
	site.putDoc(t, "/x1.json", exchangeDoc("X", "0"))
	site.putDoc(t, "/x2.json", exchangeDoc("X", "0"))

	network, err := NewFetcher().Fetch(context.Background(), site.url("/a.json"), site.url("/a.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "X"}, identifiers(network))
	assert.Equal(t, site.url("/x1.json"), network.Exchanges["X"].URL, "the first URL in walk order wins")
	require.Len(t, network.Problems, 2)
	assert.ErrorIs(t, network.Problems[0].Err, ErrDuplicateIdentifier)
	assert.ErrorIs(t, network.Problems[1].Err, ErrIdentifierMismatch)
	assert.Equal(t, "Y", network.Problems[1].ReferencedBy[0].Identifier)
}

func TestFetchLimits(t *testing.T) {
	bigDoc := exchangeDoc("BIG", "0")
	bigDoc.AboutMe.Name = strings.Repeat("x", 4096)
	tests := []struct {
		name    string
		options []FetcherOption
		setup   func(t *testing.T, site *testSite) string
		wantErr error
	}{
		{
			name:    "timeout",
			options: []FetcherOption{WithFetchTimeout(50 * time.Millisecond)},
			setup: func(t *testing.T, site *testSite) string {
				// The handler answers only once the client gives up.
				site.hang = func(r *http.Request) { <-r.Context().Done() }
				return "/hang/slow.json"
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "chunked body over the limit",
			options: []FetcherOption{WithMaxBytes(2048)},
			setup: func(t *testing.T, site *testSite) string {
				site.putDoc(t, "/chunked/big.json", bigDoc)
				return "/chunked/big.json"
			},
			wantErr: ErrTooLarge,
		},
		{
			name:    "declared length over the limit",
			options: []FetcherOption{WithMaxBytes(2048)},
			setup: func(t *testing.T, site *testSite) string {
				site.putDoc(t, "/big.json", bigDoc)
				return "/big.json"
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "server error",
			setup: func(t *testing.T, site *testSite) string {
				site.fail("/down.json", http.StatusServiceUnavailable)
				return "/down.json"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t)
			path := tt.setup(t, site)
			site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("P", "1", site.url(path)), linked("Q", "2", site.url("/q.json"))))
			site.putDoc(t, "/q.json", exchangeDoc("Q", "0"))

			network, err := NewFetcher(tt.options...).Fetch(context.Background(), site.url("/a.json"))
			require.NoError(t, err)
			assert.Equal(t, []string{"A", "Q"}, identifiers(network), "the walk goes on past the failure")
			problem := findProblem(t, network, site.url(path))
			assert.Equal(t, "A", problem.ReferencedBy[0].Exchange)
			if tt.wantErr != nil {
				assert.ErrorIs(t, problem.Err, tt.wantErr)
			}
		})
	}
}

func TestFetchConcurrencyLimit(t *testing.T) {
	const limit = 4
	site := newTestSite(t)
	var providers []Provider
	for i := range 20 {
		id := "P" + strconv.Itoa(i)
		path := "/hang/" + id + ".json"
		providers = append(providers, linked(id, strconv.Itoa(10+i), site.url(path)))
		site.putDoc(t, path, exchangeDoc(id, "0"))
	}
	site.putDoc(t, "/a.json", exchangeDoc("A", "0", providers...))

	// Every request waits until `limit` requests have been in flight at
	// once, which proves the fetcher uses its concurrency; the recorded
	// maximum proves it never exceeds it.
	var inFlight, maxInFlight atomic.Int32
	full := make(chan struct{})
	var fullOnce sync.Once
	site.hang = func(r *http.Request) {
		current := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			seen := maxInFlight.Load()
			if current <= seen || maxInFlight.CompareAndSwap(seen, current) {
				break
			}
		}
		if current >= limit {
			fullOnce.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-r.Context().Done():
		}
	}

	network, err := NewFetcher(WithConcurrency(limit), WithFetchTimeout(10*time.Second)).Fetch(context.Background(), site.url("/a.json"))
	require.NoError(t, err)
	assert.Empty(t, network.Problems)
	assert.Len(t, network.Exchanges, 21)
	assert.Equal(t, int32(limit), maxInFlight.Load())
}

func TestFetchCollectionAndCommunityExamples(t *testing.T) {
	site := newTestSite(t)
	// The community examples point at tkytel.github.io and example.com; the
	// test serves them locally instead.
	rewrite := func(data []byte) []byte {
		data = bytes.ReplaceAll(data, []byte("https://tkytel.github.io/mantela/"), []byte(site.url("/")))
		return bytes.ReplaceAll(data, []byte("https://sleep.example.com/"), []byte(site.url("/sleep/")))
	}
	site.put("/example.json", rewrite(readShared(t, "example.json")))
	site.put("/example.mantelas.json", rewrite(readShared(t, "example.mantelas.json")))

	network, err := NewFetcher().Fetch(context.Background(), site.url("/example.mantelas.json"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"b00a31f6-783c-466a-be19-18eafe6b740f",
		"01K5NQ22CRQVM18R4X60BYC8AN",
		"b0ce607e-a8be-470b-9506-2f9aae1ea317",
	}, identifiers(network))
	assert.Equal(t, 1, site.hitCount("/example.mantelas.json"))
	require.Len(t, network.Problems, 1)
	assert.Equal(t, site.url("/sleep/.well-known/mantela.json"), network.Problems[0].URL)
	assert.Equal(t, "Example manTELa", network.Problems[0].ReferencedBy[0].Name)

	path, err := network.Graph().Route("b00a31f6-783c-466a-be19-18eafe6b740f", "150", "1058", Pulse10PPS)
	require.NoError(t, err)
	assert.Equal(t, "0903001501058", path.Number)
}

func TestFetchCacheFallback(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("B", "1", site.url("/b.json"))))
	site.putDoc(t, "/b.json", exchangeDoc("B", "0"))
	cacheDir := t.TempDir()
	cache, err := NewDiskCache(cacheDir)
	require.NoError(t, err)
	fetcher := NewFetcher(WithCache(cache))

	network, err := fetcher.Fetch(context.Background(), site.url("/a.json"))
	require.NoError(t, err)
	require.Empty(t, network.Problems)
	assert.False(t, network.Exchanges["B"].FromCache)

	tests := []struct {
		name   string
		breakB func()
	}{
		{name: "server error", breakB: func() { site.fail("/b.json", http.StatusInternalServerError) }},
		{name: "broken document", breakB: func() { site.put("/b.json", []byte(`{"aboutMe": `)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.breakB()
			network, err := fetcher.Fetch(context.Background(), site.url("/a.json"))
			require.NoError(t, err)
			require.Contains(t, network.Exchanges, "B")
			assert.True(t, network.Exchanges["B"].FromCache)
			assert.False(t, network.Exchanges["B"].CachedAt.IsZero())
			require.Len(t, network.Problems, 1)
			assert.True(t, network.Problems[0].UsedCache)
			assert.Contains(t, network.Problems[0].String(), "using cached copy")
		})
	}

	t.Run("no cached copy", func(t *testing.T) {
		site.fail("/a.json", http.StatusInternalServerError)
		network, err := NewFetcher(WithCache(cache)).Fetch(context.Background(), site.url("/a.json?other"))
		require.NoError(t, err)
		assert.Empty(t, network.Exchanges)
		require.Len(t, network.Problems, 1)
		assert.False(t, network.Problems[0].UsedCache)
	})

	entries, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "one file per URL, no temporary files left")
}

func TestFetchStartURLs(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0"))
	site.putDoc(t, "/b.json", exchangeDoc("B", "0"))
	network, err := NewFetcher().Fetch(context.Background(), site.url("/a.json"), "mailto:x@example.com", site.url("/b.json#top"), site.url("/b.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B"}, identifiers(network))
	require.Len(t, network.Problems, 1)
	assert.ErrorIs(t, network.Problems[0].Err, ErrBadURL)
	assert.Equal(t, "start URL", network.Problems[0].ReferencedBy[0].String())
	assert.Equal(t, 1, site.hitCount("/b.json"))
}

func TestFetchDocumentLimit(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("B", "1", site.url("/b.json")), linked("C", "2", site.url("/c.json"))))
	site.putDoc(t, "/b.json", exchangeDoc("B", "0"))
	site.putDoc(t, "/c.json", exchangeDoc("C", "0"))
	network, err := NewFetcher(WithMaxDocuments(2)).Fetch(context.Background(), site.url("/a.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B"}, identifiers(network))
	require.Len(t, network.Problems, 1)
	assert.ErrorIs(t, network.Problems[0].Err, ErrDocumentLimit)
}

func TestFetchCancelled(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	network, err := NewFetcher().Fetch(ctx, site.url("/a.json"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotNil(t, network)
}

func TestDiskCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "cache")
	cache, err := NewDiskCache(dir)
	require.NoError(t, err)

	_, _, err = cache.Load("https://a.example/m.json")
	assert.True(t, errors.Is(err, fs.ErrNotExist))

	require.NoError(t, cache.Store("https://a.example/m.json", []byte("first")))
	require.NoError(t, cache.Store("https://a.example/m.json", []byte("second")))
	require.NoError(t, cache.Store("https://b.example/m.json", []byte("other")))
	data, storedAt, err := cache.Load("https://a.example/m.json")
	require.NoError(t, err)
	assert.Equal(t, "second", string(data))
	assert.False(t, storedAt.IsZero())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, entry := range entries {
		assert.False(t, strings.HasPrefix(entry.Name(), ".tmp-"), "temporary file %s left behind", entry.Name())
	}
	assert.Len(t, entries, 2)
}

func TestRefresher(t *testing.T) {
	site := newTestSite(t)
	site.putDoc(t, "/a.json", exchangeDoc("A", "0"))
	updates := make(chan *Network, 4)
	refresher := NewRefresher(NewFetcher(), []string{site.url("/a.json")}, func(network *Network) { updates <- network })
	assert.Nil(t, refresher.Current())

	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- refresher.Run(ctx, ticks) }()

	receive := func() *Network {
		t.Helper()
		select {
		case network := <-updates:
			return network
		case <-time.After(10 * time.Second):
			t.Fatal("no refresh within 10 s")
			return nil
		}
	}
	first := receive()
	assert.Equal(t, []string{"A"}, identifiers(first))

	site.putDoc(t, "/a.json", exchangeDoc("A", "0", linked("B", "1", site.url("/b.json"))))
	site.putDoc(t, "/b.json", exchangeDoc("B", "0"))
	ticks <- time.Now()
	second := receive()
	assert.Equal(t, []string{"A", "B"}, identifiers(second))
	assert.Same(t, second, refresher.Current())

	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}

	// A refresh cut short keeps the previous network.
	_, err := refresher.RefreshOnce(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Same(t, second, refresher.Current())
}
