package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// The printed report, checked in headless Chromium (docs/report.md, "The
// printed report"). .ci/run installs Debian's chromium; without it these
// tests skip and say so.

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): the printed report is not checked")
	return ""
}

// headless runs Chromium on the page at path with args.
func headless(t *testing.T, bin, path string, args ...string) []byte {
	t.Helper()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.Command(bin, append(args, "file://"+path)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	return out
}

// printCampaign is a closed campaign of n deploy keys as a real
// organisation has them: repeated names ("jenkins-ci" twice in a
// repository), owners that are e-mail addresses and teams, a third kept
// with a reason, a third decommissioned in bulk, the rest no-response.
func printCampaign(t *testing.T, n int) *fixture {
	t.Helper()
	f := &fixture{Evidence: campaignstest.New(t, "2026-10-01T06:00:00Z"), t: t}
	st := f.Store
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "northwind", APIURL: "https://api.github.com/", ToolVersion: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	old := campaignstest.TimeP("2024-01-02T03:04:05Z")
	names := []string{"jenkins-ci", "jenkins-ci", "deploy-production-eu-west", "terraform-state-reader", "release-bot"}
	for i := range n {
		repo := fmt.Sprintf("payments-service-%03d", i/5)
		o := audit.Observation{ID: audit.IdentityID("github", "northwind", audit.KindGitHubDeployKey, fmt.Sprintf("%s/%d", repo, 7000+i)),
			Kind: audit.KindGitHubDeployKey, Name: names[i%len(names)], Scope: "northwind/" + repo, CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": fmt.Sprintf("svc-user%d", i%13), "read_only": "true"}}
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	reviewers := []string{"alice.johnson@northwind.example", "bob.okafor@northwind.example", "carmen.delgado-ruiz@northwind.example"}
	f.at("2026-10-01T09:00:00Z").must(campaigns.Create(ctx, st, "ciso@northwind.example", campaigns.Spec{Name: "2026-Q4", Scope: "id:*", Due: "2026-12-31",
		Reviewers: reviewers}))
	cam, err := campaigns.Get(ctx, st, "2026-Q4")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n/3; i++ {
		it := &cam.Items[i]
		f.decide(fmt.Sprintf("2026-10-02T09:%02d:%02dZ", i/60, i%60), it.Reviewer, "2026-Q4", it.ID, campaigns.Keep,
			"deploys the payments release pipeline (SEC-1042)")
	}
	f.at("2026-10-03T10:00:00Z").must(campaigns.DecideMatching(ctx, st, reviewers[0], "2026-Q4", "name:terraform-* or name:release-*",
		campaigns.Decommission, "unused since the move to OIDC", false))
	f.at("2026-11-01T10:00:00Z").must(campaigns.Close(ctx, st, "ciso@northwind.example", "2026-Q4"))
	return f
}

// printHTML writes the campaign's report.html into a folder and returns its path.
func printHTML(t *testing.T, f *fixture) string {
	t.Helper()
	r, err := report.Build(ctx, f.Store, "2026-Q4", report.Options{GeneratedAt: campaignstest.Time("2026-11-10T09:00:00Z"), Signer: "ciso@northwind.example", Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

func pages(t *testing.T, bin, html string) int {
	t.Helper()
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	headless(t, bin, html, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	// NHI_PRINT_DIR keeps the PDFs, to look at them (pdftoppm -png).
	if dir := os.Getenv("NHI_PRINT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, t.Name()+"-"+filepath.Base(filepath.Dir(html))+".pdf"), b, 0o644)
	}
	return len(pdfPage.FindAll(b, -1))
}

// TestPrintedPages: the printed report of a 100-item campaign, and what
// each further 100 items add, stay within what an auditor files: a compact
// register (25 rows or more on an A4 landscape page), then the exceptions
// (a third of the items here, each with its findings' explanations) and
// the decommissions; no section forced onto a page of its own.
func TestPrintedPages(t *testing.T) {
	bin := chromium(t)
	small := pages(t, bin, printHTML(t, printCampaign(t, 100)))
	large := pages(t, bin, printHTML(t, printCampaign(t, 300)))
	per100 := float64(large-small) / 2
	t.Logf("printed: 100 items %d pages, 300 items %d pages (%.1f pages per further 100 items)", small, large, per100)
	// One page of slack over the 200 further items: a change to the fixed
	// part (a rule row in the criteria) moves page breaks by a page at
	// most, which is packing, not growth.
	if large-small > 2*6+1 {
		t.Errorf("%.1f pages per further 100 items, want at most 6 (and one page of packing slack)", per100)
	}
	// The fixed part (attestation, population, criteria with the
	// separation-of-duties rule, statistics, refused attempts, integrity)
	// takes about six pages whatever the size; the criteria's rule rows
	// (four of them for Kubernetes) can push it over a page break.
	if small > 13 {
		t.Errorf("a 100-item campaign prints on %d pages, want at most 13", small)
	}
}

// splitScript marks, after layout, every ID, name, e-mail or team cell
// whose text moved to a new line anywhere but after / @ : - or a space.
const splitScript = `<script>
const bad = [];
function walk(el, skipID) {
  const it = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let top = null, prev = "", last = null;
  for (let n = it.nextNode(); n; n = it.nextNode()) {
    if (skipID && n.parentElement.closest(".id")) continue;
    const blk = n.parentElement.closest("div, td");
    if (blk !== last) { top = null; last = blk; } // a new block starts a new line by design
    for (let i = 0; i < n.data.length; i++) {
      const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
      const rs = r.getClientRects(); if (!rs.length) continue;
      const ch = n.data[i];
      if (top !== null && rs[0].top > top + 2 && !/[\/@:\-\s·]/.test(prev) && !/\s/.test(ch)) bad.push(el.textContent + " [" + prev + "|" + ch + "]");
      top = rs[0].top; prev = ch;
    }
  }
}
document.querySelectorAll(".id").forEach(e => walk(e, false));
document.querySelectorAll("td.who").forEach(e => walk(e, true));
document.body.setAttribute("data-split", JSON.stringify(bad));
document.body.setAttribute("data-cells", String(document.querySelectorAll(".id, td.who").length));
</script>`

// TestWordsStayWhole: laid out at the printed width, no ID, name, e-mail
// address or team breaks mid-word ("alice@northw|ind.example").
func TestWordsStayWhole(t *testing.T) {
	bin := chromium(t)
	path := printHTML(t, printCampaign(t, 60))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The print rules, at the printable width of A4 landscape.
	page := strings.Replace(string(b), "@media print {", "@media all { body { width: 277mm; }", 1)
	page = strings.Replace(page, "</body>", splitScript+"</body>", 1)
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(headless(t, bin, path, "--window-size=1100,800", "--dump-dom"))
	m := regexp.MustCompile(`data-split="([^"]*)" data-cells="(\d+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the layout script did not run:\n%.500s", dom)
	}
	var split []string
	if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &split); err != nil {
		t.Fatal(err)
	}
	if m[2] == "0" {
		t.Fatal("no ID or people cell was checked")
	}
	for _, s := range split {
		t.Errorf("split mid-word: %s", s)
	}
}
