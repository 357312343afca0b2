package org.jtarget.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Told after each change of the object tree (whiteboard service). Must return quickly. */
@ConsumerType
public interface TargetServiceListener {
    void configurationChanged();
}
