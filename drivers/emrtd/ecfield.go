package emrtd

import "math/big"

// ecField does Jacobian point arithmetic modulo the curve prime with reused
// temporaries, so a scalar multiplication allocates almost nothing.
type ecField struct {
	c    *Curve
	p    *big.Int
	q    big.Int // quotient scratch
	wide big.Int // product scratch
	t    [12]big.Int
}

type jac struct{ x, y, z big.Int }

func (c *Curve) newField() *ecField { return &ecField{c: c, p: c.P} }

func (f *ecField) mul(z, x, y *big.Int) {
	f.wide.Mul(x, y)
	f.q.QuoRem(&f.wide, f.p, z)
}

func (f *ecField) sqr(z, x *big.Int) { f.mul(z, x, x) }

func (f *ecField) addm(z, x, y *big.Int) {
	z.Add(x, y)
	if z.Cmp(f.p) >= 0 {
		z.Sub(z, f.p)
	}
}

func (f *ecField) subm(z, x, y *big.Int) {
	z.Sub(x, y)
	if z.Sign() < 0 {
		z.Add(z, f.p)
	}
}

func (f *ecField) toJac(p Point) jac {
	var j jac
	if p.IsInfinity() {
		return j
	}
	j.x.Set(p.X)
	j.y.Set(p.Y)
	j.z.SetInt64(1)
	return j
}

func (f *ecField) toAffine(j *jac) Point {
	if j.z.Sign() == 0 {
		return Point{}
	}
	zi := new(big.Int).ModInverse(&j.z, f.p)
	if zi == nil { // only for a bogus explicit curve whose p is not prime
		return Point{}
	}
	zi2 := new(big.Int)
	f.sqr(zi2, zi)
	x := new(big.Int)
	f.mul(x, &j.x, zi2)
	f.mul(zi2, zi2, zi)
	y := new(big.Int)
	f.mul(y, &j.y, zi2)
	return Point{x, y}
}

// double sets r = 2p (dbl-2007-bl, any a). r may alias p.
func (f *ecField) double(r, p *jac) {
	if p.z.Sign() == 0 || p.y.Sign() == 0 {
		r.z.SetInt64(0)
		return
	}
	xx, yy, yyyy, zz, s, m, t, u := &f.t[0], &f.t[1], &f.t[2], &f.t[3], &f.t[4], &f.t[5], &f.t[6], &f.t[7]
	f.sqr(xx, &p.x)
	f.sqr(yy, &p.y)
	f.sqr(yyyy, yy)
	f.sqr(zz, &p.z)
	// S = 2((X+YY)² - XX - YYYY)
	f.addm(t, &p.x, yy)
	f.sqr(s, t)
	f.subm(s, s, xx)
	f.subm(s, s, yyyy)
	f.addm(s, s, s)
	// M = 3XX + a·ZZ²
	f.sqr(t, zz)
	f.mul(m, t, f.c.A)
	f.addm(m, m, xx)
	f.addm(m, m, xx)
	f.addm(m, m, xx)
	// Z3 = (Y+Z)² - YY - ZZ (before X and Y are overwritten)
	f.addm(u, &p.y, &p.z)
	f.sqr(u, u)
	f.subm(u, u, yy)
	f.subm(&r.z, u, zz)
	// X3 = M² - 2S
	f.sqr(t, m)
	f.subm(t, t, s)
	f.subm(&r.x, t, s)
	// Y3 = M(S - X3) - 8YYYY
	f.subm(t, s, &r.x)
	f.mul(t, m, t)
	f.addm(yyyy, yyyy, yyyy)
	f.addm(yyyy, yyyy, yyyy)
	f.addm(yyyy, yyyy, yyyy)
	f.subm(&r.y, t, yyyy)
}

// add sets r = p + q (add-2007-bl). r may alias p or q.
func (f *ecField) add(r, p, q *jac) {
	if p.z.Sign() == 0 {
		r.x.Set(&q.x)
		r.y.Set(&q.y)
		r.z.Set(&q.z)
		return
	}
	if q.z.Sign() == 0 {
		r.x.Set(&p.x)
		r.y.Set(&p.y)
		r.z.Set(&p.z)
		return
	}
	z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t := &f.t[0], &f.t[1], &f.t[2], &f.t[3], &f.t[4], &f.t[5], &f.t[6], &f.t[7], &f.t[8], &f.t[9], &f.t[10], &f.t[11]
	f.sqr(z1z1, &p.z)
	f.sqr(z2z2, &q.z)
	f.mul(u1, &p.x, z2z2)
	f.mul(u2, &q.x, z1z1)
	f.mul(t, &q.z, z2z2)
	f.mul(s1, &p.y, t)
	f.mul(t, &p.z, z1z1)
	f.mul(s2, &q.y, t)
	f.subm(h, u2, u1)
	f.subm(rr, s2, s1)
	if h.Sign() == 0 {
		if rr.Sign() == 0 {
			var d jac
			d.x.Set(&p.x)
			d.y.Set(&p.y)
			d.z.Set(&p.z)
			f.double(r, &d)
			return
		}
		r.z.SetInt64(0)
		return
	}
	f.addm(rr, rr, rr)
	f.addm(i, h, h)
	f.sqr(i, i)
	f.mul(j, h, i)
	f.mul(v, u1, i)
	// Z3 = ((Z1+Z2)² - Z1Z1 - Z2Z2)·H
	f.addm(t, &p.z, &q.z)
	f.sqr(t, t)
	f.subm(t, t, z1z1)
	f.subm(t, t, z2z2)
	f.mul(&r.z, t, h)
	// X3 = r² - J - 2V
	f.sqr(t, rr)
	f.subm(t, t, j)
	f.subm(t, t, v)
	f.subm(&r.x, t, v)
	// Y3 = r(V - X3) - 2·S1·J
	f.subm(t, v, &r.x)
	f.mul(t, rr, t)
	f.mul(s1, s1, j)
	f.addm(s1, s1, s1)
	f.subm(&r.y, t, s1)
}

// scalarMult returns k·p with a fixed 4-bit window.
func (f *ecField) scalarMult(p jac, k *big.Int) *jac {
	var table [16]jac
	table[1] = p
	for i := 2; i < 16; i++ {
		f.add(&table[i], &table[i-1], &p)
	}
	r := new(jac)
	words := k.Bits()
	first := true
	for wi := len(words) - 1; wi >= 0; wi-- {
		w := uint64(words[wi])
		for shift := bitsPerWord - 4; shift >= 0; shift -= 4 {
			if !first {
				f.double(r, r)
				f.double(r, r)
				f.double(r, r)
				f.double(r, r)
			}
			if n := (w >> uint(shift)) & 0xF; n != 0 {
				f.add(r, r, &table[n])
				first = false
			}
		}
	}
	return r
}

const bitsPerWord = 32 << (^uint(0) >> 63)
