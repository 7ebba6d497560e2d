package mantela

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPath verifies the invariants every returned path must keep: the
// number is the hops' digits plus the extension, the cost is the model's
// price of that number, and no exchange repeats. It avoids testify because
// the fuzz targets call it thousands of times a second.
func checkPath(t testing.TB, path Path) {
	t.Helper()
	if len(path.Hops) == 0 {
		t.Fatalf("path without hops: %+v", path)
	}
	var number strings.Builder
	seen := make(map[string]bool, len(path.Hops))
	for i, hop := range path.Hops {
		if seen[hop.Identifier] {
			t.Fatalf("exchange %s repeats in %+v", hop.Identifier, path.Hops)
		}
		seen[hop.Identifier] = true
		if (i == 0) != (hop.Dialled == "") {
			t.Fatalf("hop %d dialled %q: only the origin has no digits", i, hop.Dialled)
		}
		number.WriteString(hop.Dialled)
	}
	number.WriteString(path.Extension)
	if number.String() != path.Number {
		t.Fatalf("number %q is not the hops' digits plus the extension (%q)", path.Number, number.String())
	}
	if len(path.Hops) > 1 && path.FirstPeer != path.Hops[1].Identifier {
		t.Fatalf("first peer %q, second hop %q", path.FirstPeer, path.Hops[1].Identifier)
	}
	want, ok := path.Model.DialCost(path.Number)
	if path.Model == HopCount {
		want = int64(len(path.Hops) - 1)
	}
	if !ok || want != path.Cost {
		t.Fatalf("cost %d for %q under %v, want %d (dialable %v)", path.Cost, path.Number, path.Model, want, ok)
	}
}

func TestCostModels(t *testing.T) {
	tests := []struct {
		model  CostModel
		digits string
		want   int64
		wantOK bool
	}{
		{model: PushButton, digits: "", want: 0, wantOK: true},
		{model: PushButton, digits: "0150", want: 480, wantOK: true},
		{model: PushButton, digits: "*9#", want: 360, wantOK: true},
		// 0 is ten pulses: 600 + 1000; 1 is one pulse: 600 + 100.
		{model: Pulse10PPS, digits: "0", want: 1600, wantOK: true},
		{model: Pulse10PPS, digits: "1", want: 700, wantOK: true},
		{model: Pulse10PPS, digits: "0150", want: 4*600 + (10+1+5+10)*100, wantOK: true},
		{model: Pulse20PPS, digits: "0150", want: 4*450 + (10+1+5+10)*50, wantOK: true},
		{model: Pulse20PPS, digits: "9", want: 450 + 9*50, wantOK: true},
		{model: Pulse10PPS, digits: "1*", wantOK: false},
		{model: Pulse20PPS, digits: "#", wantOK: false},
		{model: HopCount, digits: "0150", want: 0, wantOK: true},
		{model: PushButton, digits: "12a", wantOK: false},
		{model: CostModel(42), digits: "1", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.model.String()+"/"+tt.digits, func(t *testing.T) {
			got, ok := tt.model.DialCost(tt.digits)
			assert.Equal(t, tt.wantOK, ok)
			if tt.wantOK {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestParseCostModel(t *testing.T) {
	for model := PushButton; model <= HopCount; model++ {
		parsed, err := ParseCostModel(model.String())
		require.NoError(t, err)
		assert.Equal(t, model, parsed)
	}
	for alias, model := range map[string]CostModel{"push": PushButton, "pulse10": Pulse10PPS, "pulse20": Pulse20PPS, "hops": HopCount} {
		parsed, err := ParseCostModel(alias)
		require.NoError(t, err)
		assert.Equal(t, model, parsed, alias)
	}
	_, err := ParseCostModel("rotary")
	assert.Error(t, err)
	assert.Equal(t, "ms", Pulse10PPS.Unit())
	assert.Equal(t, "hops", HopCount.Unit())
}

func TestRoute(t *testing.T) {
	// line: A → B → D; C has no self entry, so A → C → D is not usable.
	line := []*Document{
		exchangeDoc("A", "0", peer("B", "1"), peer("C", "2")),
		exchangeDoc("B", "9", peer("D", "3")),
		exchangeDoc("C", "", peer("D", "4")),
		exchangeDoc("D", "8"),
	}
	// Direct "00" (two expensive zeros) against "11" + self "1" + "1" via X.
	pulses := []*Document{
		exchangeDoc("A", "", peer("T", "00"), peer("X", "11")),
		exchangeDoc("X", "1", peer("T", "1")),
		exchangeDoc("T", "5"),
	}
	// cycle: A ↔ B ↔ C with every exchange passable.
	cycle := []*Document{
		exchangeDoc("A", "0", peer("B", "1")),
		exchangeDoc("B", "0", peer("A", "1"), peer("C", "2")),
		exchangeDoc("C", "0", peer("B", "1"), peer("A", "2")),
	}
	unavailableEntry := []*Document{
		exchangeDoc("A", "0", Provider{Identifier: "B", Prefix: "1", Unavailable: true}, peer("C", "22")),
		exchangeDoc("B", "0", peer("T", "1")),
		exchangeDoc("C", "0", peer("T", "3")),
		exchangeDoc("T", "0"),
	}
	unavailableExchange := func() []*Document {
		b := exchangeDoc("B", "0", peer("T", "1"))
		b.AboutMe.Unavailable = true
		c := exchangeDoc("C", "0", peer("T", "3"))
		t := exchangeDoc("T", "0")
		return []*Document{exchangeDoc("A", "0", peer("B", "1"), peer("C", "22")), b, c, t}
	}()
	selfOnly := []*Document{
		exchangeDoc("S", "0"),
		exchangeDoc("T", "0", peer("S", "5")),
	}
	prefixes := func() []*Document {
		a := exchangeDoc("A", "0", peer("B", "1"), peer("C", "2"))
		b := exchangeDoc("B", "0")
		b.AboutMe.PreferredPrefix = []string{"0150", "150"}
		c := exchangeDoc("C", "0")
		c.AboutMe.PreferredPrefix = []string{"0921", "150"}
		return []*Document{a, b, c}
	}()
	emptyAndUnavailableSelf := []*Document{
		exchangeDoc("A", "", peer("B", ""), peer("C", "1")),
		{
			AboutMe: AboutMe{Identifier: "C"},
			Providers: []Provider{
				{Identifier: "C", Prefix: "0", Unavailable: true},
				peer("T", "2"),
			},
		},
		exchangeDoc("B", "0", peer("T", "1")),
		exchangeDoc("T", ""),
	}

	tests := []struct {
		name       string
		docs       []*Document
		from, to   string
		extension  string
		model      CostModel
		wantNumber string
		wantHops   []string
		wantCost   int64
		wantErr    error
	}{
		{name: "through self prefix", docs: line, from: "A", to: "D", extension: "100", model: PushButton, wantNumber: "193100", wantHops: []string{"A", "B", "D"}, wantCost: 720},
		{name: "hop count", docs: line, from: "A", to: "D", extension: "100", model: HopCount, wantNumber: "193100", wantHops: []string{"A", "B", "D"}, wantCost: 2},
		{name: "target without self entry", docs: line, from: "A", to: "C", extension: "100", model: PushButton, wantNumber: "2100", wantHops: []string{"A", "C"}, wantCost: 480},
		{name: "target is origin", docs: line, from: "A", to: "A", extension: "100", model: PushButton, wantNumber: "100", wantHops: []string{"A"}, wantCost: 360},
		{name: "no self entry blocks passing through", docs: line, from: "C", to: "B", extension: "100", model: PushButton, wantErr: ErrNoRoute},
		{name: "origin needs no self entry", docs: line, from: "C", to: "D", extension: "100", model: PushButton, wantNumber: "4100", wantHops: []string{"C", "D"}},
		{name: "push-button prefers fewer digits", docs: pulses, from: "A", to: "T", extension: "1", model: PushButton, wantNumber: "001", wantHops: []string{"A", "T"}, wantCost: 360},
		{name: "10 pps prefers fewer pulses", docs: pulses, from: "A", to: "T", extension: "1", model: Pulse10PPS, wantNumber: "11111", wantHops: []string{"A", "X", "T"}, wantCost: 5 * 700},
		{name: "20 pps prefers fewer digits", docs: pulses, from: "A", to: "T", extension: "1", model: Pulse20PPS, wantNumber: "001", wantHops: []string{"A", "T"}, wantCost: 2*(450+500) + 500},
		{name: "hop count prefers direct", docs: pulses, from: "A", to: "T", extension: "1", model: HopCount, wantNumber: "001", wantHops: []string{"A", "T"}, wantCost: 1},
		{name: "cycle", docs: cycle, from: "A", to: "C", extension: "100", model: PushButton, wantNumber: "102100", wantHops: []string{"A", "B", "C"}},
		{name: "cycle back", docs: cycle, from: "C", to: "A", extension: "100", model: PushButton, wantNumber: "2100", wantHops: []string{"C", "A"}},
		{name: "unavailable provider entry", docs: unavailableEntry, from: "A", to: "T", extension: "100", model: PushButton, wantNumber: "2203100", wantHops: []string{"A", "C", "T"}},
		{name: "unavailable exchange not passed", docs: unavailableExchange, from: "A", to: "T", extension: "100", model: PushButton, wantNumber: "2203100", wantHops: []string{"A", "C", "T"}},
		{name: "unavailable exchange as target", docs: unavailableExchange, from: "A", to: "B", extension: "100", model: PushButton, wantErr: ErrExchangeUnavailable},
		{name: "unavailable exchange as origin", docs: unavailableExchange, from: "B", to: "T", extension: "100", model: PushButton, wantNumber: "1100", wantHops: []string{"B", "T"}},
		{name: "self-referencing only", docs: selfOnly, from: "S", to: "T", extension: "100", model: PushButton, wantErr: ErrNoRoute},
		{name: "self-referencing reachable", docs: selfOnly, from: "T", to: "S", extension: "100", model: PushButton, wantNumber: "5100", wantHops: []string{"T", "S"}},
		{name: "unknown target", docs: line, from: "A", to: "Z", extension: "100", model: PushButton, wantErr: ErrUnknownExchange},
		{name: "unknown origin", docs: line, from: "Z", to: "A", extension: "100", model: PushButton, wantErr: ErrUnknownExchange},
		{name: "target by preferred prefix", docs: prefixes, from: "A", to: "0921", extension: "100", model: PushButton, wantNumber: "2100", wantHops: []string{"A", "C"}},
		{name: "ambiguous preferred prefix", docs: prefixes, from: "A", to: "150", extension: "100", model: PushButton, wantErr: ErrAmbiguousExchange},
		{name: "empty prefix and unavailable self skipped", docs: emptyAndUnavailableSelf, from: "A", to: "T", extension: "100", model: PushButton, wantErr: ErrNoRoute},
		{name: "target known only from a providers list", docs: line[:1], from: "A", to: "B", extension: "100", model: PushButton, wantNumber: "1100", wantHops: []string{"A", "B"}},
		{name: "provider without document cannot be passed", docs: line[:1], from: "A", to: "D", extension: "100", model: PushButton, wantErr: ErrUnknownExchange},
		{name: "feature code push-button", docs: line, from: "A", to: "B", extension: "*9", model: PushButton, wantNumber: "1*9", wantHops: []string{"A", "B"}},
		{name: "feature code pulse", docs: line, from: "A", to: "B", extension: "*9", model: Pulse10PPS, wantErr: ErrNotDialable},
		{name: "empty extension", docs: line, from: "A", to: "B", extension: "", model: PushButton, wantErr: ErrNotDialable},
		{name: "unknown model", docs: line, from: "A", to: "B", extension: "1", model: CostModel(9), wantErr: ErrNotDialable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := NewGraph(tt.docs).Route(tt.from, tt.to, tt.extension, tt.model)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			checkPath(t, path)
			assert.Equal(t, tt.wantNumber, path.Number)
			var hops []string
			for _, hop := range path.Hops {
				hops = append(hops, hop.Identifier)
			}
			assert.Equal(t, tt.wantHops, hops)
			if tt.wantCost != 0 {
				assert.Equal(t, tt.wantCost, path.Cost)
			}
		})
	}
}

func TestRouteResolvesByPrefixAndReportsTerminal(t *testing.T) {
	docs := []*Document{
		exchangeDoc("A", "0", peer("B", "1")),
		exchangeDoc("B", "0"),
	}
	docs[0].AboutMe.PreferredPrefix = []string{"0921"}
	path, err := NewGraph(docs).Route("0921", "B", "100", PushButton)
	require.NoError(t, err)
	assert.Equal(t, "A", path.Hops[0].Identifier)
	assert.Equal(t, "Exchange A", path.Hops[0].Name)
	require.NotNil(t, path.Terminal)
	assert.Equal(t, "desk", path.Terminal.Name)

	path, err = NewGraph(docs).Route("A", "B", "999", PushButton)
	require.NoError(t, err)
	assert.Nil(t, path.Terminal, "unlisted extensions are still routed")
}

func TestRouteCommunityExamples(t *testing.T) {
	parser := Parser{}
	var docs []*Document
	single, err := parser.ParseAny(readShared(t, "example.json"), "example.json")
	require.NoError(t, err)
	docs = append(docs, single...)
	collection, err := parser.ParseAny(readShared(t, "example.mantelas.json"), "example.mantelas.json")
	require.NoError(t, err)
	docs = append(docs, collection...)
	graph := NewGraph(docs)

	// HogeTel → FugaTel (0903), FugaTel's self prefix 0, FugaTel → ManTELa
	// (0150), then the test call extension.
	path, err := graph.Route("b00a31f6-783c-466a-be19-18eafe6b740f", "0150", "1234", PushButton)
	require.NoError(t, err)
	checkPath(t, path)
	assert.Equal(t, "0903001501234", path.Number)
	assert.Equal(t, "01K5NQ22CRQVM18R4X60BYC8AN", path.FirstPeer)
	assert.Equal(t, "information", path.Terminal.Type)

	// ManTELa's entry for FugaTel is unavailable and neTel publishes no
	// document, so HogeTel cannot be reached from ManTELa.
	_, err = graph.Route("b0ce607e-a8be-470b-9506-2f9aae1ea317", "0921", "3474", PushButton)
	assert.ErrorIs(t, err, ErrNoRoute)
}

func TestAlternatives(t *testing.T) {
	// A reaches T through B (cheap), C (dearer) and D (dearest); E has no
	// path to T, and the second entry for B must not add a path.
	docs := []*Document{
		exchangeDoc("A", "0", peer("B", "1"), peer("C", "2"), peer("D", "33"), peer("E", "4"), peer("B", "55")),
		exchangeDoc("B", "0", peer("T", "1")),
		exchangeDoc("C", "0", peer("T", "12")),
		exchangeDoc("D", "0", peer("C", "1"), peer("T", "12345")),
		exchangeDoc("E", ""),
		exchangeDoc("T", "0"),
	}
	graph := NewGraph(docs)
	best, err := graph.Route("A", "T", "100", PushButton)
	require.NoError(t, err)

	paths, err := graph.Alternatives("A", "T", "100", PushButton, 0)
	require.NoError(t, err)
	var numbers, peers []string
	for _, path := range paths {
		checkPath(t, path)
		numbers = append(numbers, path.Number)
		peers = append(peers, path.FirstPeer)
	}
	assert.Equal(t, best, paths[0])
	assert.Equal(t, []string{"B", "C", "D"}, peers)
	// D's best continues through C (01 then 012) rather than direct (012345).
	assert.Equal(t, []string{"101100", "2012100", "3301012100"}, numbers)

	limited, err := graph.Alternatives("A", "T", "100", PushButton, 2)
	require.NoError(t, err)
	assert.Equal(t, paths[:2], limited)

	only, err := graph.Alternatives("A", "A", "100", PushButton, 5)
	require.NoError(t, err)
	assert.Len(t, only, 1)

	_, err = graph.Alternatives("A", "Z", "100", PushButton, 5)
	assert.ErrorIs(t, err, ErrUnknownExchange)
}

func TestNewGraphDuplicatesAndNil(t *testing.T) {
	first := exchangeDoc("A", "0", peer("B", "1"))
	second := exchangeDoc("A", "0", peer("B", "2"))
	graph := NewGraph([]*Document{nil, {}, first, second})
	assert.Equal(t, 2, graph.Len())
	path, err := graph.Route("A", "B", "1", PushButton)
	require.NoError(t, err)
	assert.Equal(t, "11", path.Number, "the first document for an identifier wins")
}

func TestRouteAvoiding(t *testing.T) {
	// A reaches T through B (cheap) or C; B and C also reach each other.
	docs := []*Document{
		exchangeDoc("A", "0", peer("B", "1"), peer("C", "2")),
		exchangeDoc("B", "9", peer("T", "1"), peer("C", "3")),
		exchangeDoc("C", "9", peer("T", "22"), peer("B", "3")),
		exchangeDoc("T", "9"),
	}
	graph := NewGraph(docs)
	tests := []struct {
		name       string
		avoid      []string
		wantNumber string
		wantErr    error
	}{
		{name: "nothing avoided", wantNumber: "191100"},
		{name: "first peer avoided", avoid: []string{"B"}, wantNumber: "2922100"},
		{name: "both middles avoided", avoid: []string{"B", "C"}, wantErr: ErrNoRoute},
		{name: "target avoided", avoid: []string{"T"}, wantErr: ErrNoRoute},
		{name: "origin and unknown ignored", avoid: []string{"A", "Z"}, wantNumber: "191100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := graph.RouteAvoiding("A", "T", "100", PushButton, tt.avoid)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			checkPath(t, path)
			assert.Equal(t, tt.wantNumber, path.Number)
			for _, hop := range path.Hops[1:] {
				assert.NotContains(t, tt.avoid, hop.Identifier)
			}
		})
	}
}

func TestPrefixMatches(t *testing.T) {
	b := exchangeDoc("B", "0")
	b.AboutMe.PreferredPrefix = []string{"0150", "150"}
	c := exchangeDoc("C", "0")
	c.AboutMe.PreferredPrefix = []string{"01", "150"}
	graph := NewGraph([]*Document{b, c})

	assert.Equal(t, []PrefixMatch{
		{Prefix: "0150", Identifiers: []string{"B"}, Rest: "1234"},
		{Prefix: "01", Identifiers: []string{"C"}, Rest: "501234"},
	}, graph.PrefixMatches("01501234"))
	assert.Equal(t, []PrefixMatch{{Prefix: "150", Identifiers: []string{"B", "C"}, Rest: "9"}}, graph.PrefixMatches("1509"))
	assert.Empty(t, graph.PrefixMatches("150"), "a prefix alone leaves no extension")
	assert.Empty(t, graph.PrefixMatches("777"))
	assert.Empty(t, graph.PrefixMatches(""))
}
