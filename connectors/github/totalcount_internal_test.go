package github

import (
	"encoding/json"
	"testing"
)

// TestTotalCount: the scan finds total_count where json.Unmarshal does (at
// the top level of an object, whatever the strings and nested objects
// around it say), and nothing where it does not.
func TestTotalCount(t *testing.T) {
	for _, body := range []string{
		`{"total_count": 2, "secrets": [{"name": "A"}, {"name": "B"}]}`,
		`{"secrets":[{"name":"A","total_count":9}],"total_count":1}`,
		` {"note": "say \"total_count\": 7", "nested": {"total_count": 8}, "total_count" : 3 }`,
		`{"a\\":"total_count","total_count":4}`,
		`{"secrets": []}`,
		`[{"total_count": 5}]`,
		`{"total_count": null, "secrets": []}`,
		`{"total_count": "6"}`,
		``,
	} {
		var want struct {
			TotalCount *int `json:"total_count"`
		}
		if json.Unmarshal([]byte(body), &want) != nil {
			want.TotalCount = nil
		}
		got := totalCount([]byte(body))
		if (got == nil) != (want.TotalCount == nil) || got != nil && *got != *want.TotalCount {
			t.Errorf("%s: %v, want %v", body, deref(got), deref(want.TotalCount))
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
