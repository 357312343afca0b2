package org.jtarget.core.internal.registry;

import java.util.List;
import java.util.regex.Pattern;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TpgInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Restores one saved tree under the registry lock, noting what it must skip (TargetService#restore). */
final class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);
    /** Saved serials: the Unit Serial Number VPD page (80h, SPC-4) holds ASCII; keep them short and printable. */
    private static final Pattern SERIAL = Pattern.compile("[0-9A-Za-z_.-]{1,32}");

    private final ObjectRegistry r;
    private final List<String> problems;

    Restorer(ObjectRegistry r, List<String> problems) {
        this.r = r;
        this.problems = problems;
    }

    void restore(Configuration c) {
        long t0 = System.nanoTime();
        for (BackstoreInfo b : c.backstores()) {
            try {
                backstore(b);
            } catch (TargetException e) {
                problems.add("backstore " + b.name() + ": " + e.getMessage());
            }
        }
        for (TargetInfo t : c.targets()) {
            try {
                target(t);
            } catch (TargetException e) {
                problems.add("target " + t.name() + ": " + e.getMessage() + " (skipped with its TPGs)");
            }
        }
        AluaAdmin.refreshAll(r);
        LOG.info("Restored {} backstore(s) and {} target(s) in {} ms; {} problem(s)", c.backstores().size(),
                c.targets().size(), (System.nanoTime() - t0) / 1_000_000, problems.size());
    }

    private void backstore(BackstoreInfo b) {
        Names.checkObjectName("backstore", b.name());
        if (r.backstores.containsKey(b.name())) {
            throw new TargetException("already exists; the saved copy is skipped");
        }
        String serial = b.serial();
        if (serial == null || serial.isEmpty()) {
            serial = r.newSerial(); // a hand-written or first-start entry: give it one, the next save keeps it
        } else if (!SERIAL.matcher(serial).matches()) {
            serial = r.newSerial();
            problems.add("backstore " + b.name() + ": serial " + b.serial() + " is not valid; new serial " + serial);
        }
        BackstoreObject obj = new BackstoreObject(b.name(), b.type(), b.parameters(), serial,
                r.engine.createLogicalUnit(b.name(), serial));
        try {
            obj.attributes(Attributes.checkAll(b.name(), b.attributes()));
        } catch (TargetException e) {
            problems.add("backstore " + b.name() + ": " + e.getMessage() + " (attributes left at their defaults)");
        }
        AluaAdmin.restore(b.name(), obj.unit, b.aluaGroups(), problems);
        obj.unit.alua().onExplicitChange(r::changed); // SET TARGET PORT GROUPS: save the states
        String prProblem = obj.unit.persistReservations(BackstoreObject.reservationsFile(r.dataDirectory(), b.name()));
        if (prProblem != null) {
            problems.add("backstore " + b.name() + ": saved persistent reservations ignored: " + prProblem);
        }
        r.backstores.put(b.name(), obj);
        org.jtarget.spi.backstore.BackstoreProvider provider = r.providers.get(b.type());
        if (provider == null) {
            obj.detail = "no provider for type " + b.type();
        } else {
            r.open(obj); // a local backstore opens now; a remote one in the background, retried until it opens
            if (obj.state == BackstoreInfo.State.FAILED) {
                problems.add("backstore " + b.name() + ": kept FAILED (retried): " + obj.detail);
            }
        }
    }

    private void target(TargetInfo ti) {
        Names.checkFabricName(ti.fabric());
        if (ti.name() != null && r.targets.containsKey(ti.name())) {
            throw new TargetException("already exists; the saved copy is skipped");
        }
        r.checkScsiName(ti.fabric(), "target", ti.name());
        Target t = new Target(ti.name(), ti.fabric());
        r.targets.put(t.name, t);
        for (TpgInfo tpgInfo : ti.tpgs()) {
            String where = "target " + t.name + " tpg " + tpgInfo.tag();
            if (tpgInfo.tag() < 1 || tpgInfo.tag() > 65535 || t.tpgs.containsKey(tpgInfo.tag())) {
                problems.add(where + ": tag is invalid or repeated (skipped)");
                continue;
            }
            Tpg tpg = new Tpg(t, tpgInfo.tag());
            t.tpgs.put(tpg.tag, tpg);
            tpg(tpg, tpgInfo, where);
        }
    }

    private void tpg(Tpg tpg, TpgInfo ti, String where) {
        ti.attributes().forEach((k, v) -> {
            try {
                tpg.putAttribute(k, Validation.checkAttribute(tpg.target.fabric, k, v));
            } catch (TargetException e) {
                problems.add(where + ": " + e.getMessage() + " (attribute skipped)");
            }
        });
        for (String portal : ti.portals()) {
            try {
                PortalAddress p = PortalAddress.parse(portal);
                if (tpg.portal(p) != null) {
                    throw new TargetException("portal repeated: " + p);
                }
                tpg.addPortalEntry(p);
                String error = r.listeners.acquire(tpg.target.fabric, p.address(), r.fabrics.get(tpg.target.fabric));
                if (error != null) {
                    problems.add(where + ": " + error + " (portal kept; retried when the fabric returns)");
                }
            } catch (TargetException e) {
                problems.add(where + ": " + e.getMessage() + " (portal skipped)");
            }
        }
        for (LunInfo l : ti.luns()) {
            BackstoreObject obj = l.backstore() == null ? null : r.backstores.get(l.backstore());
            if (l.lun() < 0 || l.lun() > 16383 || tpg.luns.get(l.lun()) != null) {
                problems.add(where + ": LUN " + l.lun() + " is invalid or repeated (skipped)");
            } else if (obj == null) {
                problems.add(where + " lun " + l.lun() + ": no such backstore: " + l.backstore() + " (skipped)");
            } else {
                tpg.luns = tpg.luns.with(l.lun(), obj.unit, obj.name);
                if (l.aluaGroup() != null && obj.unit.alua().group(l.aluaGroup()) == null) {
                    problems.add(where + " lun " + l.lun() + ": no such ALUA group: " + l.aluaGroup()
                            + " (reached through the default group)");
                } else if (l.aluaGroup() != null) {
                    tpg.aluaGroup(l.lun(), l.aluaGroup());
                }
            }
        }
        for (AclInfo acl : ti.acls()) {
            try {
                if (tpg.acls.containsKey(acl.initiator())) {
                    throw new TargetException("ACL repeated: " + acl.initiator());
                }
                r.checkScsiName(tpg.target.fabric, "initiator", acl.initiator());
                Validation.checkChap(acl.chap());
                tpg.putAcl(acl);
            } catch (TargetException e) {
                problems.add(where + ": " + e.getMessage() + " (ACL skipped)");
            }
        }
    }
}
