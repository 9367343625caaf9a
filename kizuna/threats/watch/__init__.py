"""Sightings ("seen it too") and watch filters with their in-app inbox: what analysts do with threat objects beyond
reading them. A sighting is a STIX ``sighting`` object stored like any other; a watch filter notifies its owner of new
objects that match and that the owner may see."""
