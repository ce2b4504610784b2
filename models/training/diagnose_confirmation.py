"""Distributions of the confirmation measures (orientation change, post-impact activity) on
generated validation recordings (seed split 7, apart from training and test), used to set the
`ConfirmerConfig` defaults. Mirrors the Rust measures: pre = 3..1 s before the impact,
post = 1.5..10 s after. Needs only numpy.

usage: python diagnose_confirmation.py
"""

import numpy as np, generator as gen, make_cases as mc
def measures(acc, t_imp):
    i=int(round(t_imp*50))
    pre=acc[max(0,i-150):max(1,i-50)].mean(0); post=acc[i+75:i+500]
    pv=post.mean(0)
    ang=np.degrees(np.arccos(np.clip(pre@pv/np.linalg.norm(pre)/np.linalg.norm(pv),-1,1)))
    act=np.linalg.norm(post,axis=1).std()
    return ang, act
for p in ['waist','wrist']:
    for kind in gen.FALL_TYPES+['sit_down_hard','jump','device_drop']:
        A=[]
        for i in range(30):
            r=mc.rng(7,p,kind,i)
            if kind in gen.FALL_TYPES:
                tr,t=gen.fall_trace(r,p,kind,post_s=20.0)
            else:
                tr=gen.negative_trace(r,p,kind); t=[e for k,e in tr.events if k==kind][0]
            ts,acc,k=mc.record(tr)
            a=gen.resample(ts,acc)
            A.append(measures(a,t*k))
        A=np.array(A)
        print(p,kind,'angle p5/p50',np.percentile(A[:,0],[5,50]).round(1),'act p50/p95/max',np.percentile(A[:,1],[50,95,100]).round(3))
