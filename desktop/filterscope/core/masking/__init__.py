"""The chapter's colour-distance background mask: parameters, the mask, batch apply."""
