package sqlengine

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/database/dbtest"
	"pixshare/search/readmodel"
	"pixshare/search/readmodel/contract"
)

func TestContract(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			contract.Run(t, func(t *testing.T) readmodel.Engine {
				db := open(t)
				if err := Migrate(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				return New(db)
			})
		})
	}
}
