// Decodes the map's vector tiles (Mapbox Vector Tiles) with @mapbox/vector-tile and pbf from npm, served
// from our own origin. A module, so it runs before DOMContentLoaded, when map.js starts.
import { VectorTile } from "/static/vendor/vector-tile/index.js";
import { PbfReader } from "/static/vendor/pbf/index.js";

// A tile's features as GeoJSON, by tile layer. Report points are sent with a buffer round the tile (for
// renderers that draw across edges); here a point belongs to the one tile it lies in, so no report is
// drawn or counted twice.
function decode(buffer, z, x, y) {
  const tile = new VectorTile(new PbfReader(new Uint8Array(buffer)));
  const out = {};
  for (const [name, layer] of Object.entries(tile.layers)) {
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const feature = layer.feature(i);
      const inside = feature.loadGeometry().some((ring) =>
        ring.some((p) => p.x >= 0 && p.x < layer.extent && p.y >= 0 && p.y < layer.extent));
      if (inside) features.push(feature.toGeoJSON(x, y, z));
    }
    out[name] = features;
  }
  return out;
}

window.mapappTiles = { decode };
