package hospital_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// TestMigrateRollout applies the schema as a desk of the previous version
// would, then as the new version, twice (as desks starting together do),
// and checks that the previous version's desk still migrates and writes.
func TestMigrateRollout(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	all := hospital.Migrations()
	if len(all) < 2 || all[0].Version != 1 {
		t.Fatalf("migrations = %v, want versions 1.. in order", all)
	}
	old := all[:len(all)-1]
	if v, err := hospital.Migrate(ctx, conn, old); err != nil || v != old[len(old)-1].Version {
		t.Fatalf("old desk: version %d, %v", v, err)
	}
	for range 2 {
		if v, err := hospital.Migrate(ctx, conn, all); err != nil || v != all[len(all)-1].Version {
			t.Fatalf("new desk: version %d, %v", v, err)
		}
	}
	// The previous version's desk starts again after the rollout began.
	if v, err := hospital.Migrate(ctx, conn, old); err != nil || v != all[len(all)-1].Version {
		t.Fatalf("old desk after the new schema: version %d, %v", v, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO desks (desk_id, name) VALUES ('d1', 'Quầy 1')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed) VALUES ('d1', 1, ARRAY['\x01'::bytea], 'k1', now(), '\x02')`); err != nil {
		t.Fatalf("old desk's write after the new schema: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(all) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(all))
	}
}
