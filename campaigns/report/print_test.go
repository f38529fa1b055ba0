package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
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
	// Chromium itself now and then dies of a signal on a loaded machine
	// (a segmentation fault in CI, before it read the page): that is not
	// the report's doing, so a crash is tried once more; any other
	// failure, or a second crash, fails the test.
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(bin, append(args, "file://"+path)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			return out
		}
		var exit *exec.ExitError
		if attempt == 1 && errors.As(err, &exit) && !exit.Exited() {
			t.Logf("%s crashed (%v); trying once more", bin, err)
			continue
		}
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
}

// printCampaign is a closed campaign of n deploy keys as a real
// organisation has them: repeated names ("jenkins-ci" twice in a
// repository), owners that are e-mail addresses and teams, a third kept
// with a reason, a third decommissioned in bulk, the rest no-response.
// Each of more is a further source with one IAM role in the campaign.
func printCampaign(t *testing.T, n int, more ...audit.SnapshotInfo) *fixture {
	t.Helper()
	f := &fixture{Evidence: campaignstest.New(t, "2026-10-01T06:00:00Z"), t: t}
	st := f.Store
	for _, src := range more {
		f.Source = src
		f.Reach = &awsReach
		f.Snapshot(t, nil, audit.Observation{ID: audit.IdentityID(src.Source, src.Account, audit.KindAWSIAMRole, "deployer"), Kind: audit.KindAWSIAMRole, Name: "deployer", Scope: src.Account})
	}
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

// awsReach is what the AWS connector records a run of one account reached
// (connectors/aws: NotCollected, CannotSee), word for word: the report's
// completeness table holds it.
var awsReach = audit.Reach{Unit: "accounts", Read: 1, Requests: 8,
	NotCollected: []string{
		"IAM Identity Center (SSO) users, permission sets and their account assignments",
		"IAM Roles Anywhere trust anchors and profiles",
		"service-specific credentials (CodeCommit, Amazon Keyspaces), IAM SSH public keys and X.509 signing certificates of IAM users",
		"resource-based policies that grant other accounts or principals access (S3 buckets, KMS keys, SNS topics, SQS queues, Lambda functions)",
		"secrets kept in Secrets Manager or SSM Parameter Store",
	},
	CannotSee: []string{
		"temporary credentials STS already issued: sessions of assumed roles and federated users last until they expire, and IAM lists none of them",
		"secret access keys: only key IDs are read, never a secret",
	}}

// printOffboarding is a closed offboarding of a leaver as the demo has
// one: secrets of the repositories she could write to and deploy keys
// she added, with long names and IDs, each transferred, rotated,
// decommissioned, kept in bulk or left without a response, and a note.
// It returns the campaign's name.
func printOffboarding(t *testing.T, n int) (*fixture, string) {
	t.Helper()
	f := &fixture{Evidence: campaignstest.New(t, "2026-11-02T10:00:00Z"), t: t}
	st := f.Store
	const manager, heir = "dan.okonkwo-whitfield@northwind.example", "carmen.delgado-ruiz@northwind.example"
	f.must(st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "alice.smith@northwind.example", GitHub: "alice-smith", Status: audit.PersonLeft, LeftAt: "2026-10-31", Manager: manager},
		{Email: manager, GitHub: "dan-ow"}, {Email: heir, GitHub: "carmen-dr"}, {Email: "ciso@northwind.example", GitHub: "ciso-nw"},
	}}, false))
	var obs []audit.Observation
	names := []string{"AWS_SECRET_ACCESS_KEY", "ARTIFACTORY_PASSWORD", "SENTRY_AUTH_TOKEN"}
	for i := range n {
		repo := fmt.Sprintf("northwind/payments-service-%03d", i/4)
		if i%4 == 3 {
			obs = append(obs, audit.Observation{ID: audit.IdentityID("github", "northwind", audit.KindGitHubDeployKey, fmt.Sprintf("%s/%d", repo[10:], 80000000+i)),
				Kind: audit.KindGitHubDeployKey, Name: "deploy-production-eu-west", Scope: repo, Attributes: map[string]string{"added_by": "alice-smith", "fingerprint": fmt.Sprintf("SHA256:k%d", i)}})
			continue
		}
		obs = append(obs, audit.Observation{ID: audit.IdentityID("github", "northwind", audit.KindGitHubActionsSecret, repo+"/"+names[i%4]),
			Kind: audit.KindGitHubActionsSecret, Name: names[i%4], Scope: repo})
		f.Principals = append(f.Principals, audit.Principal{Type: audit.PrincipalCollaborator, Scope: repo, Login: "alice-smith", Role: "write"})
	}
	f.Snapshot(t, nil, obs...)
	res, err := campaigns.CreateOffboarding(ctx, st, "ciso@northwind.example", campaigns.OffboardSpec{Person: "alice-smith"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	cam, err := campaigns.Get(ctx, st, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(cam.Items) != n {
		t.Fatalf("the offboarding has %d items, want %d", len(cam.Items), n)
	}
	for i, it := range cam.Items {
		switch f.at(fmt.Sprintf("2026-11-03T09:%02d:%02dZ", i/60, i%60)); i % 5 {
		case 0:
			f.must(campaigns.TransferItems(ctx, st, manager, name, []string{it.ID}, heir, "Carmen runs the payments platform now (OPS-2231)"))
		case 1:
			f.must(campaigns.Decide(ctx, st, manager, name, it.ID, campaigns.Rotate, "she could read it"))
		case 2:
			f.must(campaigns.Decide(ctx, st, manager, name, it.ID, campaigns.Decommission, "unused since the move to OIDC"))
		}
	}
	f.at("2026-11-04T10:00:00Z").must(campaigns.DecideMatching(ctx, st, manager, name, "name:SENTRY_*", campaigns.Keep,
		"Sentry tokens are scoped to one project each; checked with the payments team (SEC-1043)", false))
	f.at("2026-11-04T11:00:00Z").must(st.AddNotes(ctx, manager, []string{cam.Items[0].ID},
		"asked Carmen on 2026-11-04 to confirm the transfer; ticket OPS-2231-follow-up"))
	f.at("2026-11-05T10:00:00Z").must(campaigns.Close(ctx, st, "ciso@northwind.example", name))
	return f, name
}

// printHTML writes the campaign's report.html into a folder and returns its path.
func printHTML(t *testing.T, f *fixture) string {
	t.Helper()
	return printHTMLOf(t, f, "2026-Q4")
}

// printHTMLOf writes the report.html of the campaign named into a folder
// and returns its path.
func printHTMLOf(t *testing.T, f *fixture, name string) string {
	t.Helper()
	r, err := report.Build(ctx, f.Store, name, report.Options{GeneratedAt: campaignstest.Time("2026-11-10T09:00:00Z"), Signer: "ciso@northwind.example", Tool: "nhi test"})
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
	// NHI_PRINT_DIR keeps the PDFs and their pages, to look at them
	// (pdftoppm -png).
	if dir := os.Getenv("NHI_PRINT_DIR"); dir != "" {
		base := filepath.Join(dir, t.Name()+"-"+filepath.Base(filepath.Dir(html)))
		_ = os.WriteFile(base+".pdf", b, 0o644)
		if page, err := os.ReadFile(html); err == nil {
			_ = os.WriteFile(base+".html", page, 0o644)
		}
	}
	return len(pdfPage.FindAll(b, -1))
}

// TestPrintedPages: the printed report of a 100-item campaign, and what
// each further 100 items add, stay within what an auditor files (issue
// figure: about 3–4 pages per 100 items): a compact register (a line a
// row where it fits, 40 or more rows on an A4 landscape page), then the
// exceptions (a third of the items here, each with its findings'
// explanations) and the decommissions; no section forced onto a page of
// its own.
func TestPrintedPages(t *testing.T) {
	bin := chromium(t)
	small := pages(t, bin, printHTML(t, printCampaign(t, 100)))
	large := pages(t, bin, printHTML(t, printCampaign(t, 300)))
	per100 := float64(large-small) / 2
	t.Logf("printed: 100 items %d pages, 300 items %d pages (%.1f pages per further 100 items)", small, large, per100)
	if large-small > 2*4 {
		t.Errorf("%.1f pages per further 100 items, want at most 4", per100)
	}
	// The fixed part (attestation, population with its completeness,
	// criteria with the separation-of-duties rule, statistics with their
	// thresholds, refused attempts, integrity) takes six to seven pages
	// whatever the size.
	if small > 7+4 {
		t.Errorf("a 100-item campaign prints on %d pages, want at most 11", small)
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
      const rs = r.getClientRects(); if (!rs.length) { if (/\s/.test(n.data[i])) prev = " "; continue; } // a space the line break swallowed
      const ch = n.data[i];
      if (top !== null && rs[0].top > top + 2 && !/[\/@:\-\s·]/.test(prev) && !/\s/.test(ch)) bad.push(el.textContent + " [" + prev + "|" + ch + "]");
      top = rs[0].top; prev = ch;
    }
  }
}
document.querySelectorAll(".id").forEach(e => walk(e, false));
document.querySelectorAll("td.who").forEach(e => walk(e, true));
document.querySelectorAll("#offboarding tbody td:nth-child(2)").forEach(e => walk(e, false)); // its identities, IDs and all
document.body.setAttribute("data-split", JSON.stringify(bad));
document.body.setAttribute("data-cells", String([...document.querySelectorAll(".id, td.who")].filter(e => e.getClientRects().length).length));
</script>`

// TestWordsStayWhole: laid out at the printed width, and on a screen,
// no ID, name, e-mail address or team breaks mid-word
// ("alice@northw|ind.example"). On paper the long tables name an item
// without its ID (# leads to it); the screen shows the IDs.
//
// The offboarding summary's IDs broke anywhere on paper
// ("github:northwind:github_actions_secre" above "t:northwind/…"): they
// break as the register's do now.
func TestWordsStayWhole(t *testing.T) {
	bin := chromium(t)
	off, name := printOffboarding(t, 24)
	for _, rep := range []struct{ name, path string }{{"review", printHTML(t, printCampaign(t, 60))}, {"offboarding", printHTMLOf(t, off, name)}} {
		wordsStayWhole(t, bin, rep.name, rep.path)
	}
}

func wordsStayWhole(t *testing.T, bin, report, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, layout := range []struct {
		name, page, window string
	}{
		// The print rules, at the printable width of A4 landscape.
		{report + ", print", strings.Replace(string(b), "@media print {", "@media all { body { width: 277mm; }", 1), "--window-size=1100,800"},
		{report + ", screen", string(b), "--window-size=1000,800"},
	} {
		page := strings.Replace(layout.page, "</body>", splitScript+"</body>", 1)
		file := filepath.Join(t.TempDir(), "words.html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := string(headless(t, bin, file, layout.window, "--dump-dom"))
		m := regexp.MustCompile(`data-split="([^"]*)" data-cells="(\d+)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%s: the layout script did not run:\n%.500s", layout.name, dom)
		}
		var split []string
		if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &split); err != nil {
			t.Fatal(err)
		}
		if m[2] == "0" {
			t.Fatalf("%s: no ID or people cell was laid out", layout.name)
		}
		for _, s := range split {
			t.Errorf("%s: split mid-word: %s", layout.name, s)
		}
	}
}

// TestRoutineTrailsOffPaper: laid out with the print rules, a carried
// item's trail of the carried decision and its confirmation is left off
// the page, and the page says how many it left off; the other trails
// (an overwrite, an undo) stay.
func TestRoutineTrailsOffPaper(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		bin := chromium(t)
		f := newFixtureOn(t, eng)
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		const script = `<script>
const shown = [...document.querySelectorAll("details.trail")].filter(e => e.getClientRects().length).map(e => e.querySelector("summary").textContent.split(" ")[0]);
const paper = [...document.querySelectorAll(".paper")].filter(e => e.getClientRects().length).map(e => e.textContent);
document.body.setAttribute("data-trails", shown.join(","));
document.body.setAttribute("data-paper", paper.join("|"));
</script>`
		page := strings.Replace(b.String(), "@media print {", "@media all {", 1)
		page = strings.Replace(page, "</body>", script+"</body>", 1)
		path := filepath.Join(t.TempDir(), "report.html")
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := string(headless(t, bin, path, "--dump-dom"))
		m := regexp.MustCompile(`data-trails="([^"]*)" data-paper="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("the layout script did not run:\n%.500s", dom)
		}
		// #3 (NPM_TOKEN) was carried and confirmed; #2, #6 and #11 were
		// overwritten or undone.
		if m[1] != "#2,#6,#11" {
			t.Errorf("trails on paper: %s, want #2,#6,#11", m[1])
		}
		if !strings.Contains(m[2], "Not printed: the trails of 1 carried item") {
			t.Errorf("the page does not say what it left off: %q", m[2])
		}
	})
}

// fitScript records, after layout, how wide the page is against the
// window, every element that passes the page's right edge outside a box
// that scrolls (overflow-x other than visible) below the body (a table
// may scroll inside its own box, not widen the page), and the narrowest
// digest cell.
const fitScript = `<script>
const edge = document.documentElement.clientWidth;
const scrolls = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) if (getComputedStyle(a).overflowX !== "visible") return true; return false; };
const wide = [...document.querySelectorAll("body *")].filter(e => e.getClientRects().length && e.getBoundingClientRect().right > edge + 0.5 && !scrolls(e)).map(e => {
  const t = e.closest("table"), th = t && t.querySelector("th");
  return e.tagName.toLowerCase() + (e.className ? "." + e.className.split(" ").join(".") : "") + (th ? " in the table headed " + JSON.stringify(th.textContent) : "") + ": " + e.textContent.slice(0, 60);
});
const hashes = [...document.querySelectorAll("td.hash")].filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().width);
document.body.setAttribute("data-fit", JSON.stringify({page: document.documentElement.scrollWidth, window: innerWidth, edge: edge, wide: wide, hash: Math.min(...hashes), hashes: hashes.length}));
</script>`

// TestScreenFits: on a 1200-, 800- or 600-pixel window the report does
// not scroll sideways and no element passes the page's right edge: the
// reviewer statistics' headings wrap, a table with many columns scrolls
// inside its own box, and a digest in a table of several sources keeps
// room for two lines of 36 characters rather than a column a character
// wide. At 600 pixels the bulk decisions' table (a reviewer's address
// and a filter beside a justification) was 748 pixels wide and widened
// the page; it scrolls inside its own box now, as do the notes.
//
// The completeness table (the AWS connector's words for what it does not
// collect and cannot see, seven columns) was 709 pixels wide at 600 and
// cut its last column off at the window's edge; it scrolls in its own box
// now, as does the integrity section's table of the campaign's events,
// whose times no longer break to make room. The offboarding summary is
// checked too: its table is laid out as the register is.
func TestScreenFits(t *testing.T) {
	bin := chromium(t)
	off, name := printOffboarding(t, 24)
	for _, rep := range []struct{ name, path string }{
		{"review", printHTML(t, printCampaign(t, 30,
			audit.SnapshotInfo{Source: "aws", Account: "222222222222", APIURL: "https://iam.amazonaws.com/", ToolVersion: "nhi test",
				Credential: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole (assumed by arn:aws:iam::111111111111:user/nhi-auditor)"}))},
		{"offboarding", printHTMLOf(t, off, name)},
	} {
		screenFits(t, bin, rep.name, rep.path)
	}
}

func screenFits(t *testing.T, bin, report, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := strings.Replace(string(b), "</body>", fitScript+"</body>", 1)
	file := filepath.Join(t.TempDir(), "fit.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1200, 800, 600} {
		width := fmt.Sprintf("%s, %d", report, w)
		dom := string(headless(t, bin, file, fmt.Sprintf("--window-size=%d,1000", w), "--dump-dom"))
		m := regexp.MustCompile(`data-fit="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%s: the layout script did not run:\n%.500s", width, dom)
		}
		var fit struct {
			Page, Window, Edge, Hashes int
			Wide                       []string
			Hash                       float64
		}
		if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &fit); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: page %d px wide in a %d px window; narrowest of %d digest cells %.0f px", width, fit.Page, fit.Window, fit.Hashes, fit.Hash)
		if fit.Page > fit.Window {
			t.Errorf("%s: the page is %d px wide, wider than the %d px window: it scrolls sideways", width, fit.Page, fit.Window)
		}
		for i, e := range fit.Wide {
			if i == 5 {
				t.Errorf("%s: and %d more", width, len(fit.Wide)-5)
				break
			}
			t.Errorf("%s: %s passes the page's right edge (%d px)", width, e, fit.Edge)
		}
		// Two lines of "sha256:" and 64 hex digits at 0.85em monospace.
		if fit.Hashes < 4 || fit.Hash < 200 {
			t.Errorf("%s: the narrowest of %d digest cells is %.0f px, want at least 200 (two lines of a SHA-256)", width, fit.Hashes, fit.Hash)
		}
	}
}

// TestInterimSaysSoOnEveryPage: an open campaign's report says it is
// interim in the running header printed on every page, where only the
// first page's banner said so and the others read "Evidence report", so a
// page of the printout taken alone read as the final record. A closed
// campaign's pages read "Evidence report".
func TestInterimSaysSoOnEveryPage(t *testing.T) {
	f := &fixture{Evidence: campaignstest.New(t, "2026-10-01T06:00:00Z"), t: t}
	f.Snapshot(t, nil, audit.Observation{ID: audit.IdentityID("github", "northwind", audit.KindGitHubDeployKey, "api/7"), Kind: audit.KindGitHubDeployKey, Name: "deploy", Scope: "northwind/api"})
	f.at("2026-10-01T09:00:00Z").must(campaigns.Create(ctx, f.Store, "ciso@northwind.example", campaigns.Spec{Name: "2026-Q4", Scope: "id:*", Due: "2026-12-31",
		Reviewers: []string{"alice.johnson@northwind.example"}}))
	header := regexp.MustCompile(`@top-left \{ content: "([^"]*)"`)
	for _, closed := range []bool{false, true} {
		if closed {
			f.at("2026-11-01T10:00:00Z").must(campaigns.Close(ctx, f.Store, "ciso@northwind.example", "2026-Q4"))
		}
		page, err := os.ReadFile(printHTML(t, f))
		if err != nil {
			t.Fatal(err)
		}
		want := "Interim report, campaign still open · access review 2026-Q4"
		if closed {
			want = "Evidence report · access review 2026-Q4"
		}
		if m := header.FindSubmatch(page); m == nil || string(m[1]) != want {
			t.Errorf("closed %v: the running header of every printed page reads %q, want %q", closed, m, want)
		}
	}
}

// overflowScript records, after layout, every table cell whose text runs
// past the cell's right edge, over its neighbour's.
const overflowScript = `<script>
const over = [...document.querySelectorAll("td")].filter(td => td.getClientRects().length).filter(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  return r.getBoundingClientRect().right > td.getBoundingClientRect().right + 0.5;
}).map(td => (td.closest("table").querySelector("th") || {}).textContent + " | " + td.textContent);
document.body.setAttribute("data-over", JSON.stringify(over));
</script>`

// TestCellsHoldTheirText: on a 1280-, 1000-, 800- or 600-pixel window no
// cell's text runs into the next cell. A decision's time
// ("2026-12-04T18:54:32Z") kept to one line ran past the register's and
// the exceptions' Time column, over the justification beside it: both
// were unreadable on a 1280-pixel screen. At 800 pixels "decommission",
// a reviewer's address and a time ran over their neighbours, and a
// remediation state with its note ("not-checked · not yet checked after
// the due date", the fixture's) did so at 1000 too.
func TestCellsHoldTheirText(t *testing.T) {
	bin := chromium(t)
	for _, report := range []struct {
		name string
		f    *fixture
	}{{"print", printCampaign(t, 30)}, {"fixture", newFixture(t)}} {
		b, err := os.ReadFile(printHTML(t, report.f))
		if err != nil {
			t.Fatal(err)
		}
		page := strings.Replace(string(b), "</body>", overflowScript+"</body>", 1)
		file := filepath.Join(t.TempDir(), "over.html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{1280, 1000, 800, 600} {
			dom := string(headless(t, bin, file, fmt.Sprintf("--window-size=%d,1000", width), "--dump-dom"))
			m := regexp.MustCompile(`data-over="([^"]*)"`).FindStringSubmatch(dom)
			if m == nil {
				t.Fatalf("%s, %d: the layout script did not run:\n%.500s", report.name, width, dom)
			}
			var over []string
			if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &over); err != nil {
				t.Fatal(err)
			}
			for i, s := range over {
				if i == 5 {
					t.Errorf("%s, %d: and %d more", report.name, width, len(over)-5)
					break
				}
				t.Errorf("%s, %d: a cell's text runs past its column: %s", report.name, width, s)
			}
		}
	}
}

// timeScript records, after layout, every date or time in the page's text
// that does not stay on one line. A time in the long tables' Time column
// may break between its date and its time of day, never inside either.
const timeScript = `<script>
const re = /\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?Z)?/g, split = [];
let seen = 0;
const lines = (n, from, to) => { const r = document.createRange(); r.setStart(n, from); r.setEnd(n, to); return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
const it = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = it.nextNode(); n; n = it.nextNode()) {
  if (!n.parentElement.getClientRects().length) continue;
  // The Time column writes a date and its time of day as two text nodes.
  const td = n.parentElement.closest("td"), t = td && td.classList.contains("t") && /^T\d\d:\d\d:\d\dZ$/.test(n.data) ? n : null;
  if (t) { seen++; if (lines(n, 0, n.data.length) > 1) split.push(td.textContent); continue; }
  for (let m; (m = re.exec(n.data)); ) {
    seen++;
    if (lines(n, m.index, m.index + m[0].length) > 1) {
      const tab = n.parentElement.closest("table"), th = tab && tab.querySelector("th");
      split.push(m[0] + (th ? " in the table headed " + JSON.stringify(th.textContent) : " in " + n.parentElement.tagName.toLowerCase()) + ": …" + n.data.slice(Math.max(0, m.index - 30), m.index));
    }
  }
}
document.body.setAttribute("data-times", JSON.stringify({seen: seen, split: split}));
</script>`

// TestTimesStayWhole: on a 1280-, 800- or 600-pixel window and on paper,
// no date or time breaks inside itself, in any table or sentence of a
// review's report or an offboarding's. At 600 pixels the bulk decisions'
// and the notes' times broke at their date's hyphen ("2026-11-" above
// "04T10:00:00Z"), which reads as two values, as did the sources' times,
// the campaign's events', the offboarding summary's decision times and
// its effective date, and dates in a note or a finding's explanation.
func TestTimesStayWhole(t *testing.T) {
	bin := chromium(t)
	off, name := printOffboarding(t, 24)
	review := printCampaign(t, 30, audit.SnapshotInfo{Source: "aws", Account: "222222222222", APIURL: "https://iam.amazonaws.com/", ToolVersion: "nhi test"})
	review.at("2026-11-09T10:00:00Z").must(review.Store.AddNotes(ctx, "alice.johnson@northwind.example", []string{audit.IdentityID("github", "northwind", audit.KindGitHubDeployKey, "payments-service-000/7000")},
		"asked the billing team lead on 2026-11-04 whether the nightly export still uses this key (FIN-778)"))
	for _, rep := range []struct{ name, path string }{{"review", printHTML(t, review)}, {"offboarding", printHTMLOf(t, off, name)}} {
		b, err := os.ReadFile(rep.path)
		if err != nil {
			t.Fatal(err)
		}
		print := strings.Replace(string(b), "@media print {", "@media all { body { width: 277mm; }", 1)
		for _, layout := range []struct{ name, page, window string }{
			{"1280", string(b), "--window-size=1280,1000"},
			{"800", string(b), "--window-size=800,1000"},
			{"600", string(b), "--window-size=600,1000"},
			{"print", print, "--window-size=1100,800"}, // the print rules, at A4 landscape's printable width
		} {
			page := strings.Replace(layout.page, "</body>", timeScript+"</body>", 1)
			file := filepath.Join(t.TempDir(), "times.html")
			if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			dom := string(headless(t, bin, file, layout.window, "--dump-dom"))
			m := regexp.MustCompile(`data-times="([^"]*)"`).FindStringSubmatch(dom)
			if m == nil {
				t.Fatalf("%s, %s: the layout script did not run:\n%.500s", rep.name, layout.name, dom)
			}
			var times struct {
				Seen  int
				Split []string
			}
			if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &times); err != nil {
				t.Fatal(err)
			}
			if times.Seen < 20 {
				t.Fatalf("%s, %s: only %d dates and times were laid out", rep.name, layout.name, times.Seen)
			}
			for i, s := range times.Split {
				if i == 5 {
					t.Errorf("%s, %s: and %d more", rep.name, layout.name, len(times.Split)-5)
					break
				}
				t.Errorf("%s, %s: a time breaks inside itself: %s", rep.name, layout.name, s)
			}
		}
	}
}
